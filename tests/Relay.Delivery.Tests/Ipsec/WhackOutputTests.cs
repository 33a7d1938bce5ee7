using System.Net;
using Relay.Delivery.Ipsec;
using Relay.Policy;

namespace Relay.Delivery.Tests.Ipsec;

/// <summary>The whack parser and the Ensure decision over whack output recorded from libreswan 4.10 (Recorded/README.md).</summary>
public class WhackOutputTests
{
    private static readonly IPAddress Peer = IPAddress.Parse("10.211.0.2");

    private static string Recorded(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Ipsec", "Recorded", name));

    // Not recorded (no ESP in this kernel): one line in the 4.x show_traffic_status format.
    private const string EspSa =
        "006 #2: \"private-or-clear#10.211.0.0/24\"[1] 10.211.0.2, type=ESP, add_time=1764609000, inBytes=0, outBytes=0, maxBytes=2^63B, id='ID_NULL'\n";

    [Fact]
    public void Traffic_status_lists_an_esp_sa_with_its_peer_and_id()
    {
        var sa = Assert.Single(WhackOutput.ParseTraffic(EspSa));
        Assert.Equal(2, sa.State);
        Assert.Equal("private-or-clear#10.211.0.0/24", sa.Connection);
        Assert.Equal(Peer, sa.Peer);
        Assert.Equal("ESP", sa.Type);
        Assert.Equal("ID_NULL", sa.PeerId);
        Assert.True(sa.Anonymous);
        var named = Assert.Single(WhackOutput.ParseTraffic("#3: \"oe\"[2] 10.211.0.2, type=ESP, add_time=1, inBytes=9, outBytes=9, maxBytes=2^63B, id='@mx.example.net'"));
        Assert.Equal("@mx.example.net", named.PeerId);
        Assert.False(named.Anonymous);
    }

    [Theory]
    [InlineData("traffic-empty.txt")]
    [InlineData("traffic-ikeonly.txt")]
    [InlineData("traffic-private-ikeonly.txt")]
    public void Traffic_status_without_a_child_sa_is_empty(string file) => Assert.Empty(WhackOutput.ParseTraffic(Recorded(file)));

    [Fact]
    public void Shunt_status_reads_pass_hold_and_drop_shunts_with_their_labels()
    {
        Assert.Empty(WhackOutput.ParseShunts(Recorded("shunt-empty.txt")));
        var negotiating = Assert.Single(WhackOutput.ParseShunts(Recorded("shunt-ikeonly.txt")));
        Assert.Equal(("pass", "oe-negotiating"), (negotiating.Action, negotiating.Label));
        Assert.True(negotiating.Remote.Contains(Peer));
        var after = WhackOutput.ParseShunts(Recorded("shunt-private-peerdown.txt"));
        Assert.Equal([("drop", "oe-failed"), ("hold", "oe-negotiating")], after.Select(s => (s.Action, s.Label)));
        Assert.Equal(3, WhackOutput.ParseShunts(Recorded("shunt-peerdown.txt")).Count);
    }

    [Fact]
    public void Status_finds_the_established_ike_sa_and_its_peer()
    {
        var state = Assert.Single(WhackOutput.ParseStates(Recorded("status-ikeonly.txt")));
        Assert.Equal(1, state.Number);
        Assert.Equal(Peer, state.Peer);
        Assert.True(state.IkeEstablished);
        Assert.False(state.ChildEstablished);
        Assert.Empty(WhackOutput.ParseStates(Recorded("status-idle.txt")));
        Assert.Empty(WhackOutput.ParseStates(Recorded("status-failing.txt")));
    }

    [Fact]
    public void Initiation_outputs_of_every_recorded_state()
    {
        var ikeOnly = WhackOutput.ParseInitiation(Recorded("oppo-ikeonly.txt"));
        Assert.True(ikeOnly.IkeEstablished);
        Assert.Equal("null", ikeOnly.IkeAuthentication);
        Assert.True(ikeOnly.ChildRejected);
        Assert.False(ikeOnly.ChildEstablished);
        Assert.False(ikeOnly.NoResponse);

        Assert.True(WhackOutput.ParseInitiation(Recorded("oppo-again.txt")).AlreadyNegotiating);
        foreach (var file in new[] { "oppo-noanswer.txt", "oppo-peerdown.txt", "oppo-private-peerdown.txt", "oppo-private-failing-again.txt" })
        {
            var silent = WhackOutput.ParseInitiation(Recorded(file));
            Assert.True(silent.NoResponse, file);
            Assert.False(silent.IkeEstablished, file);
        }
        Assert.True(WhackOutput.ParseInitiation(Recorded("oppo-block.txt")).NotCovered);
        Assert.True(WhackOutput.ParseInitiation(Recorded("unreachable.txt")).Unreachable);
        Assert.True(WhackOutput.ParseInitiation(Recorded("oppo-private-ikeonly.txt")).ChildRejected);
    }

    [Fact]
    public void A_kernel_without_esp_in_the_initiators_own_log_is_no_kernel_esp()
    {
        // The line the responder logged here (Recorded/README.md), as the initiator's whack would stream it for its own kernel.
        var output = Recorded("oppo-ikeonly.txt").Replace("IKE_AUTH response rejected Child SA with TS_UNACCEPTABLE",
            "ERROR: netlink response for Add SA esp.b24faf60@10.211.0.2: Function not implemented (errno 38)");
        var facts = EnsureDecision.Decide(IpsecClass.PrivateOrClear, Peer,
            new EnsureEvidence(WhackOutput.ParseInitiation(output), false, [], [], WhackOutput.ParseStates(Recorded("status-ikeonly.txt"))));
        Assert.Equal((NetworkProtection.None, NetworkReason.NoKernelEsp), (facts.Protection, facts.Reason));
    }

    [Theory]
    [InlineData("oppo-ikeonly.txt", "traffic-ikeonly.txt", "shunt-ikeonly.txt", "status-ikeonly.txt", false, NetworkReason.IkeOnlyChildFailed)]
    [InlineData("oppo-again.txt", "traffic-ikeonly.txt", "shunt-ikeonly.txt", "status-ikeonly.txt", false, NetworkReason.IkeOnlyChildFailed)]
    [InlineData("oppo-peerdown.txt", "traffic-empty.txt", "shunt-peerdown.txt", "status-failing.txt", false, NetworkReason.PeerNotOeCapable)]
    [InlineData("oppo-private-peerdown.txt", "traffic-empty.txt", "shunt-private-peerdown.txt", "status-failing.txt", false, NetworkReason.PeerNotOeCapable)]
    [InlineData("oppo-block.txt", "traffic-empty.txt", "shunt-block.txt", "status-idle.txt", false, NetworkReason.OeFailing)]
    [InlineData("unreachable.txt", "traffic-empty.txt", "shunt-empty.txt", "status-idle.txt", false, NetworkReason.SidecarUnreachable)]
    [InlineData("", "traffic-empty.txt", "shunt-peerdown.txt", "status-failing.txt", false, NetworkReason.OeFailing)]
    [InlineData("", "traffic-empty.txt", "shunt-empty.txt", "status-idle.txt", true, NetworkReason.Timeout)]
    public void Ensure_decisions_over_recorded_states(string oppo, string traffic, string shunts, string status, bool timedOut, NetworkReason reason)
    {
        var evidence = new EnsureEvidence(WhackOutput.ParseInitiation(oppo.Length == 0 ? "" : Recorded(oppo)), timedOut,
            WhackOutput.ParseTraffic(Recorded(traffic)), WhackOutput.ParseShunts(Recorded(shunts)), WhackOutput.ParseStates(Recorded(status)));
        var facts = EnsureDecision.Decide(IpsecClass.PrivateOrClear, Peer, evidence);
        Assert.Equal(NetworkProtection.None, facts.Protection);
        Assert.Equal(reason, facts.Reason);
        Assert.NotNull(facts.Detail);
    }

    [Fact]
    public void Only_an_esp_sa_counts_and_only_a_vouched_for_id_is_authenticated()
    {
        var anonymous = EnsureDecision.Decide(IpsecClass.PrivateOrClear, Peer, new EnsureEvidence(null, false, WhackOutput.ParseTraffic(EspSa), [], []));
        Assert.Equal((NetworkProtection.IpsecAnonymous, (NetworkReason?)null), (anonymous.Protection, anonymous.Reason));
        var named = WhackOutput.ParseTraffic(EspSa.Replace("ID_NULL", "@mx.example.net"));
        var unvouched = EnsureDecision.Decide(IpsecClass.Private, Peer, new EnsureEvidence(null, false, named, [], []));
        Assert.Equal(NetworkProtection.IpsecAnonymous, unvouched.Protection);
        // A secure key for the id, but nothing shows pluto checked a signature: an id sent with NULL authentication proves nothing.
        var key = new Relay.Policy.Classification.IpsecPeerKey("mx.example.net.", 300, "@mx.example.net");
        var unproved = EnsureDecision.Decide(IpsecClass.Private, Peer, new EnsureEvidence(null, false, named, [], [], [key],
            new Dictionary<string, string> { ["private-or-clear#10.211.0.0/24"] = "RSASIG+AUTH_NULL+RSASIG_v1_5" }));
        Assert.Equal(NetworkProtection.IpsecAnonymous, unproved.Protection);
        Assert.Null(unproved.PeerKey);
        // The SA's connection accepts only signatures: the peer proved the key loaded for its id.
        var vouched = EnsureDecision.Decide(IpsecClass.Private, Peer, new EnsureEvidence(null, false, named, [], [], [key],
            new Dictionary<string, string> { ["private-or-clear#10.211.0.0/24"] = "RSASIG+RSASIG_v1_5" }));
        Assert.Equal(NetworkProtection.IpsecAuthenticated, vouched.Protection);
        Assert.Equal(key, vouched.PeerKey);
        Assert.Contains("mx.example.net. (TTL 300)", vouched.Detail);
        // Another peer's SA protects nothing towards this one.
        var other = EnsureDecision.Decide(IpsecClass.Private, IPAddress.Parse("10.211.0.3"), new EnsureEvidence(null, false, named, [], []));
        Assert.Equal(NetworkProtection.None, other.Protection);
    }

    [Fact]
    public void Every_prefix_of_a_recorded_output_parses_without_throwing()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Ipsec", "Recorded"), "*.txt"))
        {
            var text = File.ReadAllText(file);
            for (var i = 0; i <= text.Length; i += Math.Max(1, text.Length / 200))
            {
                var prefix = text[..i];
                _ = WhackOutput.ParseTraffic(prefix);
                _ = WhackOutput.ParseShunts(prefix);
                _ = WhackOutput.ParseStates(prefix);
                _ = WhackOutput.ParseInitiation(prefix);
                _ = WhackOutput.ParseTheirAuth(prefix);
            }
        }
    }

    private static readonly Relay.Policy.Classification.IpsecPeerKey ReverseKey = new("2.0.211.10.in-addr.arpa.", 300, "10.211.0.2");

    [Fact]
    public void A_peer_that_signed_with_the_preloaded_key_is_recorded_with_its_ipseckey_even_when_the_child_sa_fails()
    {
        var init = WhackOutput.ParseInitiation(Recorded("oppo-ipseckey.txt"));
        Assert.True(init.IkeEstablished);
        Assert.Equal("10.211.0.2", init.SignedWithPreloadedKey);
        Assert.StartsWith("digital signature (", init.IkeAuthentication);
        var evidence = new EnsureEvidence(init, false, WhackOutput.ParseTraffic(""), WhackOutput.ParseShunts(Recorded("shunt-ipseckey.txt")),
            WhackOutput.ParseStates(Recorded("status-ipseckey.txt")), [ReverseKey], WhackOutput.ParseTheirAuth(Recorded("status-ipseckey.txt")));
        var facts = EnsureDecision.Decide(IpsecClass.PrivateOrClear, Peer, evidence);
        Assert.Equal((NetworkProtection.None, NetworkReason.IkeOnlyChildFailed, ReverseKey), (facts.Protection, facts.Reason, facts.PeerKey));
        Assert.Contains("peer authenticated by the key of IPSECKEY 2.0.211.10.in-addr.arpa. (TTL 300)", facts.Detail);
        // Without a key loaded from a secure answer, the same exchange proves nothing Relay can vouch for.
        var unloaded = EnsureDecision.Decide(IpsecClass.PrivateOrClear, Peer, evidence with { PeerKeys = [] });
        Assert.Null(unloaded.PeerKey);
        Assert.DoesNotContain("IPSECKEY", unloaded.Detail);
    }

    [Fact]
    public void A_peer_without_a_loaded_key_fails_ike_authentication_as_oe_failing_with_the_notes()
    {
        var init = WhackOutput.ParseInitiation(Recorded("oppo-nokey.txt"));
        Assert.False(init.IkeEstablished);
        Assert.StartsWith("authentication failed: no certificate matched", init.AuthenticationFailure);
        var facts = EnsureDecision.Decide(IpsecClass.PrivateOrClear, Peer, new EnsureEvidence(init, false, [],
            WhackOutput.ParseShunts(Recorded("shunt-nokey.txt")), [], [], null, ["IPSECKEY 2.0.211.10.in-addr.arpa. insecure (not DNSSEC-validated): not used"]));
        Assert.Equal((NetworkProtection.None, NetworkReason.OeFailing), (facts.Protection, facts.Reason));
        Assert.Contains("no key from a secure IPSECKEY was loaded", facts.Detail);
        Assert.EndsWith("insecure (not DNSSEC-validated): not used", facts.Detail);
        Assert.Null(facts.PeerKey);
    }

    [Fact]
    public void Status_names_what_each_connection_demands_of_the_peer()
    {
        var auth = WhackOutput.ParseTheirAuth(Recorded("status-ipseckey.txt"));
        Assert.Equal("RSASIG+RSASIG_v1_5", auth["private-or-clear#10.211.0.0/24"]);
        Assert.Equal("never", auth["clear"]);
        Assert.Equal("AUTH_NULL", WhackOutput.ParseTheirAuth("000 \"private\":   our auth:null, their auth:AUTH_NULL, our autheap:none, their autheap:none;")["private"]);
    }

    [Fact]
    public void An_esp_sa_is_authenticated_only_with_a_loaded_key_for_its_id_and_a_checked_signature()
    {
        var sa = WhackOutput.ParseTraffic(EspSa.Replace("ID_NULL", "10.211.0.2"));
        var signatureOnly = new Dictionary<string, string> { ["private-or-clear#10.211.0.0/24"] = "RSASIG+RSASIG_v1_5" };
        var authenticated = EnsureDecision.Decide(IpsecClass.Private, Peer, new EnsureEvidence(null, false, sa, [], [], [ReverseKey], signatureOnly));
        Assert.Equal((NetworkProtection.IpsecAuthenticated, ReverseKey), (authenticated.Protection, authenticated.PeerKey));
        // The trigger's own output naming the preloaded key is evidence too, whatever the connection accepts.
        var init = WhackOutput.ParseInitiation(Recorded("oppo-ipseckey.txt"));
        Assert.Equal(NetworkProtection.IpsecAuthenticated,
            EnsureDecision.Decide(IpsecClass.Private, Peer, new EnsureEvidence(init, false, sa, [], [], [ReverseKey])).Protection);
        // A key for another id, or none: anonymous.
        Assert.Equal(NetworkProtection.IpsecAnonymous, EnsureDecision.Decide(IpsecClass.Private, Peer,
            new EnsureEvidence(null, false, sa, [], [], [ReverseKey with { KeyId = "@mx.oe.test" }], signatureOnly)).Protection);
        Assert.Equal(NetworkProtection.IpsecAnonymous, EnsureDecision.Decide(IpsecClass.Private, Peer,
            new EnsureEvidence(null, false, sa, [], [], [], signatureOnly)).Protection);
    }
}
