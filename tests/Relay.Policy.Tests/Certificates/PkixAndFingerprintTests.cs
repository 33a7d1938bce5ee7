using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Relay.Policy.Certificates;
using static Relay.Policy.Tests.TestPki;

namespace Relay.Policy.Tests.Certificates;

public class PkixAndFingerprintTests
{
    private static readonly ReferenceIdentifier[] MxName = [new("mx.example.com")];

    [Fact]
    public void Pkix_chain_to_a_trusted_root_with_the_right_name_verifies()
    {
        var c = ThreeLevel();
        Assert.True(new PkixVerifier([c.Root]).Verify(c.Presented, MxName, Now).IsVerified);
    }

    [Fact]
    public void Pkix_chain_to_an_untrusted_root_is_chain_invalid()
    {
        var c = ThreeLevel();
        Assert.Equal(PkixVerdict.ChainInvalid, new PkixVerifier([Root("Someone Else")]).Verify(c.PresentedWithRoot, MxName, Now).Verdict);
    }

    [Fact]
    public void Pkix_expired_leaf_is_expired_not_merely_chain_invalid()
    {
        var c = ThreeLevel(leafNotBefore: Now.AddDays(-60), leafNotAfter: Now.AddDays(-1));
        Assert.Equal(PkixVerdict.Expired, new PkixVerifier([c.Root]).Verify(c.Presented, MxName, Now).Verdict);
    }

    [Fact]
    public void Pkix_self_signed_leaf_is_chain_invalid()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        Assert.Equal(PkixVerdict.ChainInvalid, new PkixVerifier([Root()]).Verify([leaf], MxName, Now).Verdict);
    }

    [Fact]
    public void Pkix_wrong_name_is_a_name_mismatch()
    {
        var c = ThreeLevel(["mail.other.example"]);
        Assert.Equal(PkixVerdict.NameMismatch, new PkixVerifier([c.Root]).Verify(c.Presented, MxName, Now).Verdict);
    }

    [Fact]
    public void Pkix_subdomain_reference_accepts_any_mx_below_the_next_hop()
    {
        var c = ThreeLevel(["mx7.example.com"]);
        Assert.True(new PkixVerifier([c.Root]).Verify(c.Presented, [ReferenceIdentifier.Parse(".example.com")], Now).IsVerified);
    }

    [Fact]
    public void Fingerprint_matches_spki_or_certificate_digest_in_any_case_with_colons()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        var spki = Convert.ToHexString(SHA256.HashData(leaf.PublicKey.ExportSubjectPublicKeyInfo())).ToLowerInvariant();
        var cert = string.Join(":", Convert.ToHexString(SHA256.HashData(leaf.RawData)).Chunk(2).Select(p => new string(p)));
        Assert.Equal("spki", FingerprintMatcher.Match(leaf, [spki])?.Kind);
        Assert.Equal("cert", FingerprintMatcher.Match(leaf, ["not-a-pin", cert])?.Kind);
        Assert.Null(FingerprintMatcher.Match(leaf, [Convert.ToHexString(SHA256.HashData(Leaf(null, ["x"]).RawData))]));
    }
}
