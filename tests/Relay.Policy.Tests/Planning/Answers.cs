using System.Net;
using Relay.Dns;
using Relay.Policy.Planning;

namespace Relay.Policy.Tests.Planning;

/// <summary>
/// Hand-made DNS answers for the pure planner. Not a stand-in for the resolver: the planner's input IS
/// a set of answers, so these tests exercise exactly what runs in production; PlannerDnsWorldTests drive
/// the same code through Relay.Dns against nsd + unbound.
/// </summary>
public sealed class Answers
{
    public DnsAnswers Set { get; } = new();

    public static readonly byte[] Hash = Convert.FromHexString("8CB0FC6C527506A053F4F14C8464BEBBD6DEDE2738D11468DD953D7D6A3021F1");

    public Answers Mx(string domain, bool secure, params (int Pref, string Host)[] mx) =>
        Put(domain, DnsType.MX, secure, mx.Select(m => (DnsRecord)new MxRecord(domain, 300, (ushort)m.Pref, m.Host)).ToArray());

    public Answers Host(string host, bool secure, string address = "192.0.2.1", DnsCnameChain? chain = null)
    {
        var owner = chain?.ExpandedName ?? host;
        Put(host, DnsType.A, secure, [new ARecord(owner, 300, IPAddress.Parse(address))], chain);
        return Put(host, DnsType.AAAA, secure, [], chain);
    }

    public Answers Tlsa(string host, bool secure, params (byte U, byte S, byte M)[] records) =>
        Put(DeliveryPlanner.TlsaOwner(25, host.TrimEnd('.')), DnsType.TLSA, secure,
            records.Select(r => (DnsRecord)new TlsaRecord("_25._tcp." + host, 300, r.U, r.S, r.M, Hash)).ToArray());

    public Answers NoTlsa(string host, bool secure = true) => Put(DeliveryPlanner.TlsaOwner(25, host.TrimEnd('.')), DnsType.TLSA, secure, []);

    public Answers Bogus(string name, DnsType type)
    {
        Set.Add(name, type, new DnsResult.Bogus(name, type, 6, "DNSSEC Bogus"));
        return this;
    }

    public Answers Failure(string name, DnsType type)
    {
        Set.Add(name, type, new DnsResult.Error(name, type, DnsErrorKind.Timeout, "no answer within 2s"));
        return this;
    }

    public Answers Put(string name, DnsType type, bool secure, DnsRecord[] records, DnsCnameChain? chain = null)
    {
        DnsResult result = records.Length == 0
            ? new DnsResult.NoData(name, type, secure, 300, chain)
            : secure ? new DnsResult.Secure(name, type, records, 300, chain) : new DnsResult.Insecure(name, type, records, 300, chain);
        Set.Add(name, type, result);
        return this;
    }

    public DeliveryPlan Plan(string domain, PolicyLevel level = PolicyLevel.Dane, DestinationPolicy? explicitPolicy = null)
    {
        var policy = new PolicyTable(explicitPolicy is null ? [] : [explicitPolicy], level).Lookup(domain);
        var step = DeliveryPlanner.PlanFor(NextHop.ForDomain(domain), policy, Set);
        Assert.True(step.IsComplete, "planner still needs: " + string.Join(", ", step.Missing));
        return step.Plan!;
    }
}
