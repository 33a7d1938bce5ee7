using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Policy.Certificates;

/// <summary>
/// The PEM bundle of `Relay:Tls:TrustAnchors`: the CA certificates PKIX trusts *instead of* the system store
/// (for `verify`, `secure`, `trusted` under opportunism, and the MTA-STS policy fetch). Parsing only; the caller reads the file.
/// </summary>
public static class TrustAnchorBundle
{
    /// <summary>Every CERTIFICATE block of <paramref name="pem"/>, or a <see cref="FormatException"/> saying what is wrong.</summary>
    public static X509Certificate2Collection Parse(string pem)
    {
        var anchors = new X509Certificate2Collection();
        try
        {
            // ImportFromPem skips other PEM labels (keys, CRLs) but throws on a CERTIFICATE block that is not DER.
            anchors.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new FormatException($"a CERTIFICATE block is not a certificate ({e.Message})", e);
        }
        if (anchors.Count == 0)
            throw new FormatException("no PEM CERTIFICATE block (-----BEGIN CERTIFICATE-----) found");
        return anchors;
    }
}
