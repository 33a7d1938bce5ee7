using System.Security.Cryptography.X509Certificates;
using Relay.Dns;
using Relay.Policy.Dane;
using static Relay.Policy.Tests.TestPki;

namespace Relay.Policy.Tests.Dane;

/// <summary>
/// Our own TLSA RRset judged as a DANE sender judges it: only a secure RRset counts; DANE-EE against our leaf, DANE-TA
/// against our chain; bogus and failed lookups are problems, insecure and securely absent records are not.
/// (The DNS answers are built here; tests/Relay.EndToEnd.Tests/Operations/OwnTlsaTests runs the same check against
/// the signed DNS world.)
/// </summary>
public class OwnTlsaCheckTests
{
    private const string Host = "mx.example.com";
    private const string Owner = "_25._tcp.mx.example.com";

    private static DnsResult Secure(params TlsaAssociation[] records) =>
        new DnsResult.Secure(Owner, DnsType.TLSA, records.Select(r => (Relay.Dns.DnsRecord)new TlsaRecord(Owner, 300, r.Usage, r.Selector, r.MatchingType, r.Data)).ToList(), 300);

    [Fact]
    public void The_printed_3_1_1_record_matches_the_certificate_it_was_printed_for()
    {
        var chain = ThreeLevel();
        var result = OwnTlsaCheck.Judge(Host, Secure(OwnTlsaCheck.Record(chain.Leaf)), chain.Presented, Now);
        Assert.Equal(OwnTlsaVerdict.Matches, result.Verdict);
        Assert.False(result.IsProblem);
        Assert.Equal(Owner, result.Owner);
    }

    [Fact]
    public void A_new_key_without_its_record_is_a_mismatch_naming_the_record_to_publish()
    {
        var old = ThreeLevel();
        var rotated = ThreeLevel();
        var result = OwnTlsaCheck.Judge(Host, Secure(OwnTlsaCheck.Record(old.Leaf)), rotated.Presented, Now);
        Assert.Equal(OwnTlsaVerdict.Mismatch, result.Verdict);
        Assert.True(result.IsProblem);
        Assert.Contains(OwnTlsaCheck.Record(rotated.Leaf).ToString(), result.Detail);
    }

    [Fact]
    public void During_a_rollover_new_and_old_records_both_match_their_certificates()
    {
        var old = ThreeLevel();
        var rotated = ThreeLevel();
        var both = Secure(OwnTlsaCheck.Record(old.Leaf), OwnTlsaCheck.Record(rotated.Leaf));
        Assert.Equal(OwnTlsaVerdict.Matches, OwnTlsaCheck.Judge(Host, both, old.Presented, Now).Verdict);
        Assert.Equal(OwnTlsaVerdict.Matches, OwnTlsaCheck.Judge(Host, both, rotated.Presented, Now).Verdict);
    }

    [Fact]
    public void A_dane_ta_record_matches_through_the_chain_we_present_and_needs_our_name_in_the_leaf()
    {
        var chain = ThreeLevel();
        var ta = Tlsa(2, 1, 1, chain.Intermediate);
        Assert.Equal(OwnTlsaVerdict.Matches, OwnTlsaCheck.Judge(Host, Secure(ta), chain.Presented, Now).Verdict);
        Assert.Equal(OwnTlsaVerdict.Mismatch, OwnTlsaCheck.Judge("other.example.com", Secure(ta), chain.Presented, Now).Verdict);
    }

    [Fact]
    public void Bogus_and_failed_lookups_are_problems_insecure_and_secure_absence_are_not()
    {
        IReadOnlyList<X509Certificate2> chain = ThreeLevel().Presented;
        var record = new TlsaRecord(Owner, 300, 3, 1, 1, OwnTlsaCheck.Record(chain[0]).Data);
        var cases = new (DnsResult Answer, OwnTlsaVerdict Verdict, bool Problem)[]
        {
            (new DnsResult.Bogus(Owner, DnsType.TLSA, 6, "DNSSEC Bogus"), OwnTlsaVerdict.Bogus, true),
            (new DnsResult.Error(Owner, DnsType.TLSA, DnsErrorKind.Timeout, "no answer"), OwnTlsaVerdict.Error, true),
            (new DnsResult.Insecure(Owner, DnsType.TLSA, [record], 300), OwnTlsaVerdict.Insecure, false),
            (new DnsResult.NoData(Owner, DnsType.TLSA, isSecure: true, 300), OwnTlsaVerdict.NotPublished, false),
            (new DnsResult.NxDomain(Owner, DnsType.TLSA, isSecure: true, 300), OwnTlsaVerdict.NotPublished, false),
            (new DnsResult.NxDomain(Owner, DnsType.TLSA, isSecure: false, 300), OwnTlsaVerdict.Insecure, false),
        };
        foreach (var (answer, verdict, problem) in cases)
        {
            var result = OwnTlsaCheck.Judge(Host, answer, chain, Now);
            Assert.Equal((verdict, problem), (result.Verdict, result.IsProblem));
        }
    }
}
