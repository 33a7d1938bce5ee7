using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Relay.Dns;
using Relay.TestKit.Dns;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>
/// A signed DNS world (nsd + validating unbound) whose MX hosts are scripted peers on random 127.x.y.z
/// addresses at port 25, with TLSA records made from certificates generated here:
/// dane.test (signed): ee → DANE-EE match; ta → DANE-TA on an intermediate the peer sends; mismatch → wrong TLSA; stripped → TLSA but
/// no STARTTLS; servfail → MX 10 with a broken TLSA signature, MX 20 fine; unusable → only PKIX-TA TLSA;
/// requiretls → DANE-EE match on a peer that announces REQUIRETLS after STARTTLS; deadfirst → MX 10 on an address
/// where nothing listens, MX 20 the ee host (verified, no REQUIRETLS).
/// plain.test (unsigned): trusted → MX into dane.test's ee host; selfsigned → no TLSA; nullmx → null MX.
/// broken.test (signed): its MX RRSIG is corrupt → SERVFAIL on MX.
/// </summary>
public sealed class DaneWorldFixture : IAsyncLifetime
{
    public DnsWorld World { get; private set; } = null!;
    public IDnsResolver Resolver { get; private set; } = null!;
    public Dictionary<string, ScriptedSmtpPeer> Peers { get; } = new();

    public async Task InitializeAsync()
    {
        var root = PeerCertificates.Authority("Relay Test Root");
        var authority = PeerCertificates.IntermediateOf(root, "Relay Test DANE-TA");
        var specs = new Dictionary<string, PeerScript>
        {
            ["mx-ee"] = new() { Name = "mx-ee.dane.test" },
            ["mx-ta"] = new()
            {
                Name = "mx-ta.dane.test", Certificate = PeerCertificates.IssuedBy(authority, "mx-ta.dane.test"),
                Chain = [X509CertificateLoader.LoadCertificate(authority.RawData), X509CertificateLoader.LoadCertificate(root.RawData)],
            },
            ["mx-mm"] = new() { Name = "mx-mm.dane.test" },
            ["mx-st"] = new() { Name = "mx-st.dane.test", OfferStartTls = false },
            ["mx-sf"] = new() { Name = "mx-sf.dane.test" },
            ["mx-ok"] = new() { Name = "mx-ok.dane.test" },
            ["mx-un"] = new() { Name = "mx-un.dane.test" },
            ["mx-ss"] = new() { Name = "mx-ss.plain.test" },
            ["mx-rt"] = new() { Name = "mx-rt.dane.test", OfferRequireTls = true },
        };
        foreach (var (key, script) in specs)
            Peers[key] = StartOnPort25(script);

        string A(string key) => Peers[key].EndPoint.Address.ToString();
        string Spki(X509Certificate2 c) => PeerCertificates.SpkiSha256(c).ToUpperInvariant();
        var b = new DnsWorldBuilder();
        b.Zone("dane.test", signed: true).Add(
            "ee MX 10 mx-ee", $"mx-ee A {A("mx-ee")}", $"_25._tcp.mx-ee TLSA 3 1 1 {Spki(Peers["mx-ee"].Certificate)}",
            "ta MX 10 mx-ta", $"mx-ta A {A("mx-ta")}", $"_25._tcp.mx-ta TLSA 2 1 1 {Spki(authority)}",
            "mismatch MX 10 mx-mm", $"mx-mm A {A("mx-mm")}", $"_25._tcp.mx-mm TLSA 3 1 1 {Convert.ToHexString(RandomNumberGenerator.GetBytes(32))}",
            "stripped MX 10 mx-st", $"mx-st A {A("mx-st")}", $"_25._tcp.mx-st TLSA 3 1 1 {Spki(Peers["mx-ee"].Certificate)}",
            "servfail MX 10 mx-sf", "servfail MX 20 mx-ok", $"mx-sf A {A("mx-sf")}", $"mx-ok A {A("mx-ok")}",
            $"_25._tcp.mx-sf TLSA 3 1 1 {Spki(Peers["mx-sf"].Certificate)}",
            "deadfirst MX 10 mx-dead", "deadfirst MX 20 mx-ee", $"mx-dead A {LoopbackAddress.RandomFree(25)}",
            "requiretls MX 10 mx-rt", $"mx-rt A {A("mx-rt")}", $"_25._tcp.mx-rt TLSA 3 1 1 {Spki(Peers["mx-rt"].Certificate)}",
            "unusable MX 10 mx-un", $"mx-un A {A("mx-un")}", $"_25._tcp.mx-un TLSA 0 1 1 {Spki(Peers["mx-un"].Certificate)}")
            .CorruptSignature("_25._tcp.mx-sf", "TLSA");
        b.Zone("plain.test", signed: false).Add(
            "trusted MX 10 mx-ee.dane.test.",
            "selfsigned MX 10 mx-ss", $"mx-ss A {A("mx-ss")}",
            "nullmx MX 0 .");
        b.Zone("broken.test", signed: true).Add("@ MX 10 mx", $"mx A {A("mx-ok")}").CorruptSignature("@", "MX");
        World = await b.StartAsync();
        Resolver = new DnsResolver([new DnsServer(World.Resolver, Trusted: true)]);
    }

    private static ScriptedSmtpPeer StartOnPort25(PeerScript script)
    {
        for (var attempt = 0; ; attempt++)
        {
            try { return ScriptedSmtpPeer.Start(script, LoopbackAddress.RandomFree(25), 25); }
            catch (System.Net.Sockets.SocketException) when (attempt < 5) { }
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var peer in Peers.Values) await peer.DisposeAsync();
        if (World is not null) await World.DisposeAsync();
    }
}
