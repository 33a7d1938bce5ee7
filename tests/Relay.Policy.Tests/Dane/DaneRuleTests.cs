using System.Security.Cryptography.X509Certificates;
using Relay.Policy.Certificates;
using Relay.Policy.Dane;
using static Relay.Policy.Tests.TestPki;

namespace Relay.Policy.Tests.Dane;

/// <summary>The certificate rules of RFC 7672/7671 (issue 5 rules 1, 9, 10, 11), one test per behaviour.</summary>
public class DaneRuleTests
{
    private static readonly ReferenceIdentifier[] MxName = [new("mx.example.com")];

    private static DaneResult Verify(IEnumerable<TlsaAssociation> records, IReadOnlyList<X509Certificate2> chain,
        IReadOnlyList<ReferenceIdentifier>? names = null, bool secure = true) =>
        DaneVerifier.Verify(records, secure, chain, names ?? MxName, Now);

    [Fact]
    public void Rule1_matching_record_from_an_insecure_rrset_is_not_used()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        var result = Verify([Tlsa(3, 1, 1, leaf)], [leaf], secure: false);
        Assert.Equal(DaneVerdict.NoUsableTlsa, result.Verdict);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Rule1_pkix_usages_are_unusable_for_smtp_even_when_they_match(byte usage)
    {
        var c = ThreeLevel();
        var position = usage == 0 ? c.Intermediate : c.Leaf;
        var result = Verify([Tlsa(usage, 1, 1, position)], c.Presented);
        Assert.Equal(DaneVerdict.NoUsableTlsa, result.Verdict);
    }

    [Fact]
    public void Rule1_unknown_selector_matching_type_or_usage_is_unusable()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        var digest = Tlsa(3, 1, 1, leaf).Data;
        var result = Verify([new(3, 2, 1, digest), new(3, 1, 3, digest), new(4, 1, 1, digest), new(255, 1, 1, digest)], [leaf]);
        Assert.Equal(DaneVerdict.NoUsableTlsa, result.Verdict);
    }

    [Fact]
    public void Rule1_digest_of_the_wrong_length_is_unusable()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        var truncated = Tlsa(3, 1, 1, leaf).Data[..31];
        Assert.Equal(DaneVerdict.NoUsableTlsa, Verify([new(3, 1, 1, truncated)], [leaf]).Verdict);
    }

    [Fact]
    public void Rule9_dane_ee_ignores_names_dates_and_chain()
    {
        // Self-signed, expired, and named for somebody else: DANE-EE still authenticates it.
        var leaf = Leaf(null, ["wrong.example.net"], notBefore: Now.AddYears(-3), notAfter: Now.AddYears(-2));
        var result = Verify([Tlsa(3, 1, 1, leaf)], [leaf]);
        Assert.Equal(DaneVerdict.Verified, result.Verdict);
        Assert.Equal(3, result.Usage);
        Assert.Equal(0, result.Depth);
        Assert.Equal(AuthenticationMethod.DaneEe, result.Method);
    }

    [Fact]
    public void Rule9_dane_ee_accepts_a_not_yet_valid_leaf_under_an_unknown_issuer()
    {
        var c = ThreeLevel(leafNotBefore: Now.AddDays(5), leafNotAfter: Now.AddDays(90));
        Assert.True(Verify([Tlsa(3, 0, 1, c.Leaf)], [c.Leaf]).IsVerified);
    }

    [Fact]
    public void Rule9_dane_ee_matches_the_leaf_only_never_an_issuer()
    {
        var c = ThreeLevel();
        Assert.Equal(DaneVerdict.NoMatch, Verify([Tlsa(3, 1, 1, c.Intermediate)], c.Presented).Verdict);
    }

    [Fact]
    public void Rule10_dane_ta_intermediate_in_the_chain_anchors_a_leaf_with_the_right_name()
    {
        var c = ThreeLevel();
        var result = Verify([Tlsa(2, 1, 1, c.Intermediate)], c.Presented);
        Assert.Equal(DaneVerdict.Verified, result.Verdict);
        Assert.Equal(2, result.Usage);
        Assert.Equal(1, result.Depth);
        Assert.Equal(AuthenticationMethod.DaneTa, result.Method);
    }

    [Fact]
    public void Rule10_dane_ta_root_sent_by_the_server_anchors_at_depth_two()
    {
        var c = ThreeLevel();
        var result = Verify([Tlsa(2, 0, 2, c.Root)], c.PresentedWithRoot);
        Assert.Equal(DaneVerdict.Verified, result.Verdict);
        Assert.Equal(2, result.Depth);
    }

    [Fact]
    public void Rule10_dane_ta_full_certificate_record_supplies_an_anchor_the_server_did_not_send()
    {
        var c = ThreeLevel();
        var result = Verify([Tlsa(2, 0, 0, c.Root)], c.Presented);
        Assert.Equal(DaneVerdict.Verified, result.Verdict);
        Assert.Equal(2, result.Depth);
    }

    [Fact]
    public void Rule10_dane_ta_digest_of_an_anchor_the_server_did_not_send_matches_nothing()
    {
        var c = ThreeLevel();
        Assert.Equal(DaneVerdict.NoMatch, Verify([Tlsa(2, 0, 1, c.Root)], c.Presented).Verdict);
    }

    [Fact]
    public void Rule10_leaf_matching_a_ta_record_never_authenticates_itself()
    {
        var c = ThreeLevel();
        Assert.Equal(DaneVerdict.NoMatch, Verify([Tlsa(2, 1, 1, c.Leaf)], c.Presented).Verdict);
        var selfSigned = Leaf(null, ["mx.example.com"]);
        Assert.False(Verify([Tlsa(2, 0, 0, selfSigned), Tlsa(2, 1, 1, selfSigned)], [selfSigned, selfSigned]).IsVerified);
    }

    [Fact]
    public void Rule10_dane_ta_wrong_leaf_name_is_a_name_mismatch()
    {
        var c = ThreeLevel(["mail.other.example"]);
        var result = Verify([Tlsa(2, 1, 1, c.Intermediate)], c.Presented);
        Assert.Equal(DaneVerdict.NameMismatch, result.Verdict);
        Assert.Contains("mail.other.example", result.Detail);
    }

    [Fact]
    public void Rule10_dane_ta_accepts_the_next_hop_domain_when_the_caller_passes_it()
    {
        var c = ThreeLevel(["example.com"]);
        Assert.Equal(DaneVerdict.NameMismatch, Verify([Tlsa(2, 1, 1, c.Intermediate)], c.Presented).Verdict);
        Assert.True(Verify([Tlsa(2, 1, 1, c.Intermediate)], c.Presented, [new("mx.example.com"), new("example.com")]).IsVerified);
    }

    [Fact]
    public void Rule10_dane_ta_expired_leaf_is_chain_invalid()
    {
        var c = ThreeLevel(leafNotBefore: Now.AddDays(-90), leafNotAfter: Now.AddDays(-1));
        Assert.Equal(DaneVerdict.ChainInvalid, Verify([Tlsa(2, 1, 1, c.Intermediate)], c.Presented).Verdict);
    }

    [Fact]
    public void Rule10_dane_ta_not_yet_valid_leaf_is_chain_invalid()
    {
        var c = ThreeLevel(leafNotBefore: Now.AddDays(2), leafNotAfter: Now.AddDays(90));
        Assert.Equal(DaneVerdict.ChainInvalid, Verify([Tlsa(2, 1, 1, c.Intermediate)], c.Presented).Verdict);
    }

    [Fact]
    public void Rule10_dane_ta_expired_anchor_is_chain_invalid_as_in_openssl()
    {
        var root = Root();
        var expired = Intermediate(root, "Expired CA", notBefore: Now.AddYears(-2), notAfter: Now.AddDays(-2));
        var leaf = LeafOutsideIssuerValidity(expired, "mx.example.com");
        Assert.Equal(DaneVerdict.ChainInvalid, Verify([Tlsa(2, 1, 1, expired)], [leaf, expired]).Verdict);
        // Same shape with a valid CA verifies, so the refusal above is about the dates alone.
        var valid = Intermediate(root, "Valid CA");
        Assert.True(Verify([Tlsa(2, 1, 1, valid)], [LeafOutsideIssuerValidity(valid, "mx.example.com"), valid]).IsVerified);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rule10_dane_ta_leaf_signed_by_an_impostor_using_the_anchors_name_is_chain_invalid(bool keyIds)
    {
        var c = ThreeLevel();
        var impostor = Intermediate(Root("Impostor Root"), "Test Intermediate");
        var forged = LeafNamedAfter(c.Intermediate, impostor, "mx.example.com", keyIds);
        Assert.Equal(DaneVerdict.ChainInvalid, Verify([Tlsa(2, 1, 1, c.Intermediate)], [forged, c.Intermediate]).Verdict);
    }

    [Fact]
    public void Rule10_dane_ta_leaf_from_another_issuer_is_chain_invalid()
    {
        var c = ThreeLevel();
        var stranger = Leaf(Intermediate(Root("Other Root"), "Other CA"), ["mx.example.com"]);
        Assert.Equal(DaneVerdict.ChainInvalid, Verify([Tlsa(2, 1, 1, c.Intermediate)], [stranger, c.Intermediate]).Verdict);
    }

    [Fact]
    public void Rule10_dane_ta_builds_chains_without_key_identifiers()
    {
        var c = ThreeLevel(keyIds: false);
        Assert.True(Verify([Tlsa(2, 1, 1, c.Intermediate)], c.Presented).IsVerified);
        Assert.True(Verify([Tlsa(2, 0, 0, c.Root)], c.Presented).IsVerified);
    }

    [Fact]
    public void Rule10_wildcard_is_accepted_only_as_the_whole_leftmost_label()
    {
        var good = ThreeLevel(["*.example.com"]);
        Assert.True(Verify([Tlsa(2, 1, 1, good.Intermediate)], good.Presented).IsVerified);
        var partial = ThreeLevel(["m*.example.com"]);
        Assert.Equal(DaneVerdict.NameMismatch, Verify([Tlsa(2, 1, 1, partial.Intermediate)], partial.Presented).Verdict);
        var deeper = ThreeLevel(["*.com"]);
        Assert.Equal(DaneVerdict.NameMismatch, Verify([Tlsa(2, 1, 1, deeper.Intermediate)], deeper.Presented, [new("example.com")]).Verdict);
    }

    [Fact]
    public void Rule10_common_name_counts_only_without_a_dns_subject_alt_name()
    {
        var root = Root();
        var cnOnly = Leaf(root, [], cn: "mx.example.com");
        Assert.True(Verify([Tlsa(2, 1, 1, root)], [cnOnly, root]).IsVerified);
        var cnAndSan = Leaf(root, ["other.example.com"], cn: "mx.example.com");
        Assert.Equal(DaneVerdict.NameMismatch, Verify([Tlsa(2, 1, 1, root)], [cnAndSan, root]).Verdict);
    }

    [Fact]
    public void Rule11_weaker_digest_is_ignored_when_a_stronger_one_is_published_for_the_same_usage_and_selector()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        var other = Leaf(null, ["mx.example.com"]);
        // The SHA-256 record matches, but SHA-512 exists for 3 1 and does not: the SHA-256 one is ignored.
        Assert.Equal(DaneVerdict.NoMatch, Verify([Tlsa(3, 1, 1, leaf), Tlsa(3, 1, 2, other)], [leaf]).Verdict);
        Assert.True(Verify([Tlsa(3, 1, 1, other), Tlsa(3, 1, 2, leaf)], [leaf]).IsVerified);
    }

    [Fact]
    public void Rule11_agility_is_per_usage_and_selector()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        var other = Leaf(null, ["mx.example.com"]);
        Assert.True(Verify([Tlsa(3, 0, 1, leaf), Tlsa(3, 1, 2, other)], [leaf]).IsVerified);
    }

    [Fact]
    public void Rule11_full_value_records_are_not_subject_to_digest_agility()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        var other = Leaf(null, ["mx.example.com"]);
        Assert.True(Verify([Tlsa(3, 1, 0, leaf), Tlsa(3, 1, 2, other)], [leaf]).IsVerified);
    }

    [Fact]
    public void Empty_presented_chain_matches_nothing()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        Assert.Equal(DaneVerdict.NoMatch, Verify([Tlsa(3, 1, 1, leaf)], []).Verdict);
    }
}
