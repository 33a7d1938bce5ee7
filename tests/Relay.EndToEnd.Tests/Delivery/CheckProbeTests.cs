using System.Text.Json;
using Relay.Db;
using Relay.TestKit.Smtp.Peers;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// `relay check DOMAIN` (connecting) against the delivery world's real Postfix peers: the session it opens uses
/// delivery's planner, opener and certificate judge, so what it observes is what delivery would record.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed class CheckProbeTests(DeliveryWorldFixture world)
{
    private Dictionary<string, string> Env() => new() { ["Relay__Dns__Servers__0"] = world.World.Resolver.ToString() };

    [Fact]
    public async Task Check_connects_and_observes_dane_ee_verification_with_the_peers_key()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(Env(), "check", $"ee.{DeliveryWorldFixture.Signed}", "--json");

        Assert.True(code == 0, stderr + stdout);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("verified", json.RootElement.GetProperty("peers")[0].GetProperty("expected").GetString());
        var observed = Assert.Single(json.RootElement.GetProperty("observed").EnumerateArray());
        Assert.Equal("verified", observed.GetProperty("transport").GetString());
        Assert.Equal("dane-ee", observed.GetProperty("how").GetString());
        Assert.Equal(PeerCertificates.SpkiSha256(world.Leaf), observed.GetProperty("tls").GetProperty("spki").GetString(), ignoreCase: true);
    }

    [Fact]
    public async Task Check_observes_a_self_signed_peer_without_dnssec_as_encrypted_never_more()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(Env(), "check", $"selfsigned.{DeliveryWorldFixture.Plain}", "--json");

        Assert.True(code == 0, stderr + stdout);
        using var json = JsonDocument.Parse(stdout);
        var observed = Assert.Single(json.RootElement.GetProperty("observed").EnumerateArray());
        Assert.Equal("encrypted", observed.GetProperty("transport").GetString());
        Assert.Equal("none", observed.GetProperty("how").GetString());
    }

    /// <summary>
    /// Peer history as `relay check` shows it, planned by delivery's own planner: a STARTTLS-less peer with TLS recorded in
    /// the window is raised to TLS-required (downgrade protection, with until when), and its two keys are one key change.
    /// The history is recorded through Relay.Db as delivery records it, and forgotten afterwards (other tests deliver there).
    /// </summary>
    [Fact]
    public async Task Check_shows_peer_history_downgrade_protection_until_when_and_key_changes()
    {
        var domain = $"open.{DeliveryWorldFixture.Plain}";
        var env = new Dictionary<string, string>(Env()) { ["Relay__Database"] = world.Queue.ConnectionString };
        var (_, first, _) = await RelayProcess.RunAsync(env, "check", domain, "--no-connect", "--json");
        using (var plan = JsonDocument.Parse(first))
        {
            var history = Assert.Single(plan.RootElement.GetProperty("history").EnumerateArray());
            Assert.False(history.GetProperty("protection").GetProperty("active").GetBoolean());
            // Other tests may have delivered to this STARTTLS-less peer already: history without TLS is not protection either.
            var why = history.GetProperty("protection").GetProperty("why").GetString()!;
            Assert.True(why == "no history recorded for this peer" || why.StartsWith("not active: no TLS completed", StringComparison.Ordinal), why);
        }
        string name, address;
        using (var plan = JsonDocument.Parse(first))
        {
            var peer = plan.RootElement.GetProperty("peers")[0];
            (name, address) = (peer.GetProperty("name").GetString()!, peer.GetProperty("addresses")[0].GetString()!);
        }

        await using var db = new RelayDatabase(world.Queue.ConnectionString);
        var tlsAt = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddDays(-2).ToUnixTimeSeconds());
        AttemptRecord Tls(string key, DateTimeOffset at, bool changed) => new AttemptRecord("history-check." + DeliveryWorldFixture.Plain, name, address, 25,
            at, TimeSpan.FromMilliseconds(50), "quit", "250 ok", "dane", "encrypted", "none", "certificate-not-checked", "TLSv1.3", "TLS_AES_128_GCM_SHA256", key)
            { Observation = new PeerObservation(true, true), KeyChanged = changed };
        try
        {
            await db.Attempts.RecordAsync(Tls(new string('1', 64), tlsAt.AddHours(-1), false), [], CancellationToken.None);
            await db.Attempts.RecordAsync(Tls(new string('2', 64), tlsAt, true), [], CancellationToken.None);

            var (code, stdout, stderr) = await RelayProcess.RunAsync(env, "check", domain, "--no-connect", "--json");
            Assert.True(code == 0, stderr + stdout);
            using var json = JsonDocument.Parse(stdout);
            var history = Assert.Single(json.RootElement.GetProperty("history").EnumerateArray());
            Assert.Equal(name, history.GetProperty("name").GetString());
            Assert.True(history.GetProperty("raisesPlan").GetBoolean(), stdout);
            Assert.True(history.GetProperty("protection").GetProperty("active").GetBoolean());
            // The history's TLS time is when the attempt was recorded (the peer row's upsert), so it is within the last minutes.
            var tlsEstablished = history.GetProperty("tlsEstablishedAt").GetDateTimeOffset();
            Assert.InRange(tlsEstablished, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
            Assert.Equal(tlsEstablished.AddDays(30), history.GetProperty("protection").GetProperty("until").GetDateTimeOffset());
            Assert.Equal("encrypt", history.GetProperty("level").GetString());
            Assert.NotEqual("encrypt", history.GetProperty("levelWithoutHistory").GetString());
            Assert.Equal(1, history.GetProperty("keyChanges").GetInt32());
            Assert.Equal(2, history.GetProperty("keys").GetArrayLength());
            // The per-host plan is the planner's too: the peer entry is unchanged (history is per address, shown above).
            Assert.Equal(name, json.RootElement.GetProperty("peers")[0].GetProperty("name").GetString());

            var (_, text, _) = await RelayProcess.RunAsync(env, "check", domain, "--no-connect");
            Assert.Contains($"history {name}[{address}]", text);
            Assert.Contains($"downgrade protection active: TLS completed within the last 30 days, so TLS is required, until {tlsEstablished.AddDays(30):u}", text);
            Assert.Contains("keys seen: 2 (1 change(s))", text);
        }
        finally
        {
            await db.Peers.ForgetPeerAsync(name, address, CancellationToken.None);
        }
    }
}
