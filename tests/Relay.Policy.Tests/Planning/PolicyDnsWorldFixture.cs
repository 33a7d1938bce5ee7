using System.Security.Cryptography.X509Certificates;
using Relay.Dns;
using Relay.TestKit.Dns;

namespace Relay.Policy.Tests.Planning;

/// <summary>
/// The shared signed world (StandardDnsWorld) plus a zone whose TLSA records name certificates made here,
/// so plans, the DANE verifier and the classifier meet real DNSSEC answers from nsd + unbound.
/// </summary>
public sealed class PolicyDnsWorldFixture : IAsyncLifetime
{
    public const string Zone = "policy.example.";

    public X509Certificate2 EeLeaf { get; } = TestPki.Leaf(null, ["unrelated.name"]);
    public TestPki.Chain TaChain { get; } = TestPki.ThreeLevel(["ta.policy.example"]);

    private DnsWorld? _world;
    public DnsWorld World => _world ?? throw new InvalidOperationException("DNS world not started");
    public DnsResolver Resolver { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var ee = Hex(TestPki.Tlsa(3, 1, 1, EeLeaf).Data);
        var ta = Hex(TestPki.Tlsa(2, 0, 1, TaChain.Intermediate).Data);
        var b = StandardDnsWorld.Describe();
        b.Zone(Zone, signed: true).Add(
            "@ MX 10 mx",
            "mx A 192.0.2.60",
            $"_25._tcp.mx TLSA 3 1 1 {ee}",
            "nomx A 192.0.2.61",
            $"_25._tcp.nomx TLSA 3 1 1 {ee}",
            "cname MX 10 alias.secure.example.",
            "toinsecure MX 10 toinsecure.secure.example.",
            "badtlsa MX 10 badtlsa.secure.example.",
            "badtlsa MX 20 mx.policy.example.",
            "ta MX 10 mxta",
            "mxta A 192.0.2.62",
            $"_25._tcp.mxta TLSA 2 0 1 {ta}",
            "unusable MX 10 mxunusable",
            "mxunusable A 192.0.2.63",
            $"_25._tcp.mxunusable TLSA 1 1 1 {ee}");
        b.Zone(StandardDnsWorld.SecureZone).Add($"_25._tcp.toinsecure TLSA 3 1 1 {ee}");
        b.Zone(StandardDnsWorld.InsecureZone, signed: false).Add("crossmx MX 10 mx.policy.example.");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        _world = await b.StartAsync(cts.Token);
        Resolver = new DnsResolver([new DnsServer(World.Resolver, Trusted: true)], new DnsResolverOptions { QueryTimeout = TimeSpan.FromSeconds(3) });
    }

    public async Task DisposeAsync()
    {
        if (_world is not null) await _world.DisposeAsync();
    }

    private static string Hex(byte[] data) => Convert.ToHexString(data);
}
