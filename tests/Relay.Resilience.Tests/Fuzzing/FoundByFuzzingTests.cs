using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Relay.Policy.Certificates;
using Relay.Policy.Dane;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Resilience.Tests.Fuzzing;

/// <summary>
/// The bugs the fuzzer found, each made again on purpose so that it stays fixed whatever seed the fuzzer runs with.
/// Both were exceptions escaping the DANE verifier for input a peer or a DNS zone controls.
/// </summary>
public sealed class FoundByFuzzingTests
{
    private static readonly X509Certificate2 Authority = PeerCertificates.Authority("Fuzz Regression CA");
    private static readonly X509Certificate2 Leaf = PeerCertificates.IssuedBy(Authority, "mx.fuzz.test");
    private static readonly ReferenceIdentifier[] Names = [new("mx.fuzz.test")];

    [Fact]
    public void A_key_only_dane_ta_record_naming_an_unknown_curve_matches_nothing_instead_of_throwing()
    {
        // Was: PlatformNotSupportedException ("the specified curve '1.18.840.10045.3.1.7' … not valid") from ImportSubjectPublicKeyInfo.
        var spki = Authority.PublicKey.ExportSubjectPublicKeyInfo();
        byte[] p256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        var at = spki.AsSpan().IndexOf(p256);
        Assert.True(at > 0, "the CA's key is not a P-256 key");
        spki[at + 2] = 0x3a; // 1.2.840.10045.3.1.7 (P-256) becomes 1.18.840.10045.3.1.7: a curve nobody knows
        var record = new TlsaAssociation(TlsaAssociation.UsageDaneTa, TlsaAssociation.SelectorSpki, TlsaAssociation.MatchFull, spki);

        var result = DaneVerifier.Verify([record], rrsetSecure: true, [Leaf], Names, DateTimeOffset.UtcNow);

        Assert.False(result.IsVerified);
    }

    [Fact]
    public void A_presented_certificate_with_a_damaged_public_key_is_an_invalid_chain_instead_of_an_exception()
    {
        // Was: CryptographicException ("unable to get certs public key") from X509Chain.Build under DANE-TA.
        var der = Leaf.RawData.ToArray();
        var point = Leaf.PublicKey.EncodedKeyValue.RawData;
        var at = der.AsSpan().IndexOf(point);
        Assert.True(at > 0, "the leaf's public key was not found in its DER");
        der[at + point.Length - 1] ^= 0x01;
        using var damaged = X509CertificateLoader.LoadCertificate(der);
        var record = new TlsaAssociation(TlsaAssociation.UsageDaneTa, TlsaAssociation.SelectorCert, TlsaAssociation.MatchSha256,
            SHA256.HashData(Authority.RawData));

        var result = DaneVerifier.Verify([record], rrsetSecure: true, [damaged, Authority], Names, DateTimeOffset.UtcNow);

        Assert.False(result.IsVerified);
    }
}
