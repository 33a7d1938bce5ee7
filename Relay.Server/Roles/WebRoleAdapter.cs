using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Server.Configuration;
using Relay.Web;

namespace Relay.Server.Roles;

/// <summary>`--roles web`: the admin UI on Kestrel. Without an admin password hash it refuses to start.</summary>
internal sealed class WebRoleAdapter(RelayConfig config, RelayDatabase db, ILoggerFactory loggers) : IRole
{
    private WebApplication? app;

    public string Name => "web";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = new WebOptions(config.WebListen.Select(e => e.ToString()).ToList(), config.AdminUser ?? "", config.AdminPasswordHash,
            Certificate: LoadCertificate(config), Loggers: loggers,
            KeyEncryptionCertificate: KeyRingCertificates.Encryption(config), KeyDecryptionCertificates: KeyRingCertificates.Decryption(config),
            // Our own name plus Relay:Web:AllowedHosts (e.g. the name a reverse proxy forwards); IP literals always work.
            AllowedHosts: [config.Hostname, .. config.Raw.GetSection("Web:AllowedHosts").GetChildren()
                .Select(c => c.Value).OfType<string>().Where(v => v.Length > 0)]);
        try
        {
            app = WebHost.Build(options, db);
        }
        catch (WebConfigurationException e)
        {
            throw new ConfigException("Relay:Web", null, e.Message);
        }
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException or Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            // Kestrel's "Failed to bind to address http://…: address already in use.", without its stack.
            throw new ConfigException("Relay:Web:Listen", string.Join(", ", config.WebListen), SmtpRoleAdapter.OneLine(e.Message));
        }
        loggers.CreateLogger("web").LogInformation("admin UI on {Urls}", string.Join(", ", WebHost.BoundUrls(app)));
    }

    public async Task StopAsync(TimeSpan drain)
    {
        if (app is null) return;
        using var timeout = new CancellationTokenSource(drain);
        await app.StopAsync(timeout.Token);
    }

    public ValueTask DisposeAsync() => app?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>Relay:Web:Certificate and Relay:Web:Key (PEM): the UI is then served over HTTPS with Secure cookies.</summary>
    private static X509Certificate2? LoadCertificate(RelayConfig config)
    {
        var web = config.Raw.GetSection("Web");
        var (certificate, key) = (web["Certificate"], web["Key"]);
        if (string.IsNullOrWhiteSpace(certificate) && string.IsNullOrWhiteSpace(key)) return null;
        if (string.IsNullOrWhiteSpace(certificate) || string.IsNullOrWhiteSpace(key))
            throw new ConfigException(string.IsNullOrWhiteSpace(certificate) ? "Relay:Web:Certificate" : "Relay:Web:Key", null,
                "Relay:Web:Certificate and Relay:Web:Key must be set together");
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificate, key);
            // Kestrel on Linux wants a key it can export; a PKCS#12 round-trip gives one.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new ConfigException("Relay:Web:Certificate", certificate, $"cannot load the certificate and key: {e.Message}");
        }
    }

    /// <summary>The checks that need no database; WebHost.Build repeats them with the hash format.</summary>
    internal static void Validate(RelayConfig config)
    {
        LoadCertificate(config)?.Dispose();
        KeyRingCertificates.Encryption(config)?.Dispose();
        foreach (var retired in KeyRingCertificates.Decryption(config)) retired.Dispose();
        if (config.AdminUser is null)
            throw new ConfigException("Relay:Web:AdminUser", null, "not set: the web role needs an admin user");
        if (config.AdminPasswordHash is null)
            throw new ConfigException("Relay:Web:AdminPasswordHash", null,
                "not set and there is no default password; make one with `relay web hash-password` (password on stdin)");
        if (!Relay.Db.PasswordHasher.IsWellFormed(config.AdminPasswordHash, out var problem))
            throw new ConfigException("Relay:Web:AdminPasswordHash", null, $"unusable: {problem}");
    }
}
