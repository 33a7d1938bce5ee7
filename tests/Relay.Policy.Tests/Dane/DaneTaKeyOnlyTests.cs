using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Relay.Policy.Certificates;
using Relay.Policy.Dane;
using static Relay.Policy.Tests.TestPki;

namespace Relay.Policy.Tests.Dane;

/// <summary>
/// DANE-TA `2 1 0` (the anchor's whole public key in DNS) where the server does not send the anchor's certificate
/// (RFC 7671 §5.2.3): the chain's top certificate must be signed by that key, and the chain below it must validate
/// with names and dates as for any DANE-TA anchor.
/// </summary>
public class DaneTaKeyOnlyTests
{
    private static readonly ReferenceIdentifier[] MxName = [new("mx.example.com")];

    private static TlsaAssociation KeyRecord(X509Certificate2 anchor) => Tlsa(2, 1, 0, anchor);

    private static DaneResult Verify(TlsaAssociation record, IReadOnlyList<X509Certificate2> chain, IReadOnlyList<ReferenceIdentifier>? names = null) =>
        DaneVerifier.Verify([record], rrsetSecure: true, chain, names ?? MxName, Now);

    [Fact]
    public void Root_key_in_dns_verifies_a_chain_that_stops_below_the_root()
    {
        var c = ThreeLevel();
        var result = Verify(KeyRecord(c.Root), c.Presented);
        Assert.True(result.IsVerified, result.ToString());
        Assert.Equal((2, 2), (result.Usage, result.Depth));
        Assert.Equal(AuthenticationMethod.DaneTa, result.Method);
    }

    [Fact]
    public void A_leaf_the_key_issued_directly_verifies_alone_with_the_anchor_one_above_it()
    {
        var root = Root();
        var leaf = Leaf(root, ["mx.example.com"]);
        var result = Verify(KeyRecord(root), [leaf]);
        Assert.True(result.IsVerified, result.ToString());
        Assert.Equal(1, result.Depth);
    }

    [Fact]
    public void Names_are_still_checked_below_a_key_only_anchor()
    {
        var c = ThreeLevel(names: ["other.example.net"]);
        Assert.Equal(DaneVerdict.NameMismatch, Verify(KeyRecord(c.Root), c.Presented).Verdict);
    }

    [Fact]
    public void An_expired_intermediate_below_a_key_only_anchor_is_chain_invalid()
    {
        var root = Root();
        var expired = Intermediate(root, notBefore: Now.AddYears(-3), notAfter: Now.AddYears(-2));
        var leaf = LeafOutsideIssuerValidity(expired, "mx.example.com");
        Assert.Equal(DaneVerdict.ChainInvalid, Verify(KeyRecord(root), [leaf, expired]).Verdict);
    }

    [Fact]
    public void The_key_of_another_ca_matches_nothing()
    {
        var c = ThreeLevel();
        Assert.Equal(DaneVerdict.NoMatch, Verify(KeyRecord(Root("Someone Else")), c.Presented).Verdict);
    }

    [Fact]
    public void An_impostor_that_copies_the_anchors_name_but_not_its_signature_matches_nothing()
    {
        var root = Root();
        var impostor = LeafNamedAfter(root, signer: Root("Impostor"), "mx.example.com");
        Assert.Equal(DaneVerdict.NoMatch, Verify(KeyRecord(root), [impostor]).Verdict);
    }

    [Fact]
    public void A_self_signed_leaf_never_anchors_itself_through_its_own_key()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        Assert.Equal(DaneVerdict.NoMatch, Verify(KeyRecord(leaf), [leaf]).Verdict);
    }

    [Fact]
    public void Bytes_that_are_no_public_key_match_nothing_and_do_not_throw()
    {
        var c = ThreeLevel();
        Assert.Equal(DaneVerdict.NoMatch, Verify(new TlsaAssociation(2, 1, 0, RandomNumberGenerator.GetBytes(91)), c.Presented).Verdict);
    }

    [Fact]
    public void An_rsa_root_key_verifies_a_pkcs1_signed_leaf_and_an_rsa_pss_signature_it_cannot_check_is_not_accepted()
    {
        using var rsa = RSA.Create(2048);
        var root = RsaRoot(rsa);
        X509Certificate2 LeafSignedWith(RSASignaturePadding padding)
        {
            using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=mx.example.com", leafKey, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("mx.example.com");
            request.CertificateExtensions.Add(san.Build());
            return request.Create(root.SubjectName, X509SignatureGenerator.CreateForRSA(rsa, padding), Now.AddDays(-1), Now.AddDays(30),
                RandomNumberGenerator.GetBytes(8));
        }
        var pkcs1 = LeafSignedWith(RSASignaturePadding.Pkcs1);
        var pss = LeafSignedWith(RSASignaturePadding.Pss);

        Assert.Equal(SignatureCheck.Signed, CertificateSignature.IsSignedBy(pkcs1, CertificateDigests.SubjectPublicKeyInfo(root), out _));
        Assert.Equal(SignatureCheck.CannotCheck, CertificateSignature.IsSignedBy(pss, CertificateDigests.SubjectPublicKeyInfo(root), out var why));
        Assert.Contains("1.2.840.113549.1.1.10", why);
        Assert.True(Verify(KeyRecord(root), [pkcs1]).IsVerified);
        var result = Verify(KeyRecord(root), [pss]);
        Assert.Equal(DaneVerdict.NoMatch, result.Verdict);
        Assert.Contains("not supported", result.Detail);
    }

    private static X509Certificate2 RsaRoot(RSA rsa)
    {
        var request = new CertificateRequest("CN=RSA Root", rsa, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(Now.AddYears(-1), Now.AddYears(1));
    }

    [Fact]
    public void The_signature_check_tells_signed_from_not_signed()
    {
        var c = ThreeLevel();
        Assert.Equal(SignatureCheck.Signed, CertificateSignature.IsSignedBy(c.Leaf, CertificateDigests.SubjectPublicKeyInfo(c.Intermediate), out _));
        Assert.Equal(SignatureCheck.NotSigned, CertificateSignature.IsSignedBy(c.Leaf, CertificateDigests.SubjectPublicKeyInfo(c.Root), out _));
    }
}
