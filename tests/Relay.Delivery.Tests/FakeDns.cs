using Relay.Dns;

namespace Relay.Delivery.Tests;

/// <summary>Scripted answers for routing unit scenarios (the DNSSEC world of TestKit is for DANE tests).</summary>
internal sealed class FakeDns : IDnsResolver
{
    private readonly Dictionary<(string, DnsType), Func<string, DnsType, DnsResult>> answers = new();

    public FakeDns Answer(string name, DnsType type, Func<string, DnsType, DnsResult> answer)
    {
        answers[(Norm(name), type)] = answer;
        return this;
    }

    public FakeDns Mx(string domain, params (ushort Preference, string Host)[] hosts) =>
        Answer(domain, DnsType.MX, (n, t) => new DnsResult.Insecure(n, t, hosts.Select(h => (DnsRecord)new MxRecord(n, 300, h.Preference, h.Host)).ToList(), 300));

    public FakeDns A(string host, params string[] addresses) =>
        Answer(host, DnsType.A, (n, t) => new DnsResult.Insecure(n, t,
            addresses.Select(a => (DnsRecord)new ARecord(n, 300, System.Net.IPAddress.Parse(a))).ToList(), 300));

    public Task<DnsResult> QueryAsync(string name, DnsType type, CancellationToken cancellationToken = default) =>
        Task.FromResult(answers.TryGetValue((Norm(name), type), out var answer)
            ? answer(name, type)
            : new DnsResult.NoData(name, type, isSecure: false, negativeTtl: 60));

    private static string Norm(string name) => name.TrimEnd('.').ToLowerInvariant();
}
