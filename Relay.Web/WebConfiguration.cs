using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;

namespace Relay.Web;

/// <summary>
/// Reads <see cref="WebOptions"/> from the standard configuration keys (DESIGN.md § Contracts):
/// <c>Relay:Web:Listen</c> (list, default 127.0.0.1:8080), <c>Relay:Web:AdminUser</c> (default "admin"),
/// <c>Relay:Web:AdminPasswordHash</c> (required, no default), and optionally <c>Relay:Web:Certificate</c> /
/// <c>Relay:Web:Key</c> (PEM files) to serve HTTPS.
/// </summary>
public static class WebConfiguration
{
    public static WebOptions FromConfiguration(IConfiguration configuration)
    {
        var web = configuration.GetSection("Relay:Web");
        var listen = web.GetSection("Listen").GetChildren().Select(c => c.Value).OfType<string>().Where(v => v.Length > 0).ToList();
        if (listen.Count == 0 && web["Listen"] is { Length: > 0 } single)
            listen.Add(single);
        X509Certificate2? certificate = null;
        var (certificatePath, keyPath) = (web["Certificate"], web["Key"]);
        if (!string.IsNullOrWhiteSpace(certificatePath))
        {
            try
            {
                using var pem = X509Certificate2.CreateFromPemFile(certificatePath, string.IsNullOrWhiteSpace(keyPath) ? null : keyPath);
                // Kestrel wants a key it can use on every platform: round-trip through PKCS#12.
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new WebConfigurationException($"the web role refuses to start: cannot load Relay:Web:Certificate '{certificatePath}': {e.Message}");
            }
        }
        return new WebOptions(listen, web["AdminUser"] is { Length: > 0 } user ? user : "admin", web["AdminPasswordHash"], certificate);
    }
}
