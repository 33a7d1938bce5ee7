using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Relay.Dns;
using Relay.Inbound;
using Relay.Policy.Dane;
using Relay.Server.Configuration;

namespace Relay.Server.Operations;

/// <summary>
/// Asks DNS (<c>Relay:Dns:Servers</c>, trusted for the AD bit) for the TLSA RRset of our hostname and lets
/// Relay.Policy's <see cref="OwnTlsaCheck"/> judge it against the certificate chain the smtp role presents, read from
/// its file each time so a rotated certificate is what gets checked.
/// </summary>
public static class OwnTlsaProbe
{
    /// <summary>The certificate file the smtp role presents: Relay:Tls:Certificate, else the generated self-signed one.</summary>
    public static string CertificatePath(RelayConfig config) =>
        config.TlsCertificate ?? Path.Combine(config.DataDirectory, ServerCertificate.GeneratedCertificateFile);

    /// <summary>The PEM chain, leaf first.</summary>
    /// <exception cref="CryptographicException">not a PEM certificate.</exception>
    public static X509Certificate2Collection LoadChain(string path)
    {
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(path);
        if (chain.Count == 0) throw new CryptographicException("no CERTIFICATE block in the file");
        return chain;
    }

    public static async Task<OwnTlsaResult> CheckAsync(RelayConfig config, string certificatePath, CancellationToken cancellationToken)
    {
        var chain = LoadChain(certificatePath);
        try
        {
            var resolver = new DnsResolver(config.DnsServers.Select(e => new DnsServer(e, Trusted: true)).ToList(), new DnsResolverOptions { CacheSize = 0 });
            var answer = await resolver.QueryAsync(OwnTlsaCheck.Owner(config.Hostname), DnsType.TLSA, cancellationToken).ConfigureAwait(false);
            return OwnTlsaCheck.Judge(config.Hostname, answer, chain.ToList(), DateTimeOffset.UtcNow);
        }
        finally
        {
            foreach (var certificate in chain) certificate.Dispose();
        }
    }
}
