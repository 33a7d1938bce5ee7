using System.CommandLine;
using System.Text.Json;
using Relay.Server.Cli;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>
/// Downgrade detection from peer history (RFC 7435 §3) across real deliveries to scripted SMTP peers on loopback. The
/// peer is one (name, address): a literal route to 127.0.0.1 is the peer "127.0.0.1" whatever the port, so a peer that
/// "stops offering STARTTLS" is a second scripted server on the same address, as when a box on the path strips it.
/// </summary>
public class PeerHistoryScenarioTests
{
    private const string Sender = "alice@origin.test";
    private const string PeerKey = "127.0.0.1";

    private static DeliveryOptions Options(ScriptedSmtpPeer peer, bool protection = true) =>
        Harness.Options(("history.test", peer.Route)) with
        {
            SessionIdle = TimeSpan.Zero,
            History = new Policy.History.HistorySettings(protection, TimeSpan.FromDays(30)),
        };

    private static async Task<(int Exit, string Out, string Err)> CliAsync(Harness h, params string[] args)
    {
        var root = new RootCommand
        {
            PeersCommand.Build(() => h.ConnectionString),
            QueueCommand.Build(() => h.ConnectionString, () => "relay.test"),
        };
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Delivers one message to a peer that offers STARTTLS with a self-signed certificate: the history's first sighting.</summary>
    private static async Task DeliverOverTlsAsync(Harness h)
    {
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript());
        var id = await h.EnqueueAsync(Sender, ["first@history.test"]);
        await h.Role(Options(peer)).RunOnceAsync(CancellationToken.None);
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal("encrypted", attempt.Transport);
        Assert.False(attempt.Downgrade);
    }

    [Fact]
    public async Task Peer_that_stops_offering_starttls_is_flagged_and_deferred_until_forgotten_then_gets_cleartext_with_its_reason()
    {
        await using var h = await Harness.CreateAsync();
        await DeliverOverTlsAsync(h);

        await using var stripped = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var id = await h.EnqueueAsync(Sender, ["bob@history.test"]);
        await h.Role(Options(stripped)).RunOnceAsync(CancellationToken.None);

        Assert.Empty(stripped.Messages);
        var detail = await h.ShowAsync(id);
        Assert.Equal("deferred", Assert.Single(detail.Recipients).State);
        Assert.Contains("downgrade protection", detail.Recipients[0].LastResult);
        var peerAttempt = Assert.Single(detail.Attempts, a => a.Peer is not null);
        Assert.Null(peerAttempt.Transport);   // nothing sent, never "cleartext"
        Assert.True(peerAttempt.Downgrade);
        Assert.StartsWith("possible downgrade: 127.0.0.1 offered STARTTLS within the last 30 days (last ", peerAttempt.DowngradeReason);
        Assert.EndsWith("and now does not", peerAttempt.DowngradeReason);
        Assert.Contains("downgrade protection", peerAttempt.Reason);

        // `relay queue show --json` carries the flag on the attempt.
        var (showExit, shown, _) = await CliAsync(h, "queue", "show", id, "--json");
        Assert.Equal(0, showExit);
        var flagged = JsonDocument.Parse(shown).RootElement.GetProperty("attempts").EnumerateArray()
            .Single(a => a.GetProperty("peer").ValueKind == JsonValueKind.String);
        Assert.True(flagged.GetProperty("downgrade").GetBoolean());
        Assert.Contains("possible downgrade", flagged.GetProperty("downgradeReason").GetString());

        // A retry without the operator's word defers again.
        await h.Database.Admin.RetryAsync(id, CancellationToken.None);
        await h.Role(Options(stripped)).RunOnceAsync(CancellationToken.None);
        Assert.Empty(stripped.Messages);
        Assert.Equal("deferred", Assert.Single((await h.ShowAsync(id)).Recipients).State);

        var (badExit, _, badError) = await CliAsync(h, "peers", "forget", "no..such");
        Assert.Equal(2, badExit);
        Assert.Contains("'no..such'", badError);
        var (forgetExit, forgotten, _) = await CliAsync(h, "peers", "forget", PeerKey, "--json");
        Assert.Equal(0, forgetExit);
        Assert.Equal(1, JsonDocument.Parse(forgotten).RootElement.GetProperty("forgotten").GetInt32());
        Assert.Equal(1, (await CliAsync(h, "peers", "forget", PeerKey)).Exit);   // nothing left to forget: a negative answer

        await h.Database.Admin.RetryAsync(id, CancellationToken.None);
        await h.Role(Options(stripped)).RunOnceAsync(CancellationToken.None);

        var message = Assert.Single(stripped.Messages);
        Assert.False(message.OverTls);
        detail = await h.ShowAsync(id);
        Assert.Equal("delivered", Assert.Single(detail.Recipients).State);
        var last = detail.Attempts.First(a => a.Transport is not null);
        Assert.Equal("cleartext", last.Transport);
        Assert.Equal("starttls-not-offered", last.Reason);
        Assert.False(last.Downgrade);
    }

    [Fact]
    public async Task Without_downgrade_protection_the_flag_is_recorded_and_the_mail_goes_in_cleartext()
    {
        await using var h = await Harness.CreateAsync();
        await DeliverOverTlsAsync(h);

        await using var stripped = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var id = await h.EnqueueAsync(Sender, ["bob@history.test"]);
        await h.Role(Options(stripped, protection: false)).RunOnceAsync(CancellationToken.None);

        Assert.False(Assert.Single(stripped.Messages).OverTls);
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal("cleartext", attempt.Transport);
        Assert.Equal("starttls-not-offered", attempt.Reason);
        Assert.True(attempt.Downgrade);
        Assert.Contains("possible downgrade", attempt.DowngradeReason);
        Assert.Equal(1, await h.ScalarAsync($"select count(*) from peers where name = '{PeerKey}' and downgrade_at is not null"));
    }

    [Fact]
    public async Task Tls_that_now_breaks_is_flagged_and_deferred_without_the_cleartext_retry()
    {
        await using var h = await Harness.CreateAsync();
        await DeliverOverTlsAsync(h);

        await using var broken = ScriptedSmtpPeer.Start(new PeerScript { BreakHandshake = true });
        var id = await h.EnqueueAsync(Sender, ["bob@history.test"]);
        await h.Role(Options(broken)).RunOnceAsync(CancellationToken.None);

        Assert.Empty(broken.Messages);
        Assert.Equal(1, broken.Connections);   // no second, cleartext connection
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts, a => a.Peer is not null);
        Assert.Null(attempt.Transport);
        Assert.True(attempt.Downgrade);
        Assert.Contains("now the handshake fails", attempt.DowngradeReason);
    }

    [Fact]
    public async Task Explicit_may_policy_wins_over_history_the_flag_is_recorded_and_the_mail_goes()
    {
        await using var h = await Harness.CreateAsync();
        await DeliverOverTlsAsync(h);
        await h.Database.Policies.SetAsync("history.test", "may", [], [], null, CancellationToken.None);

        await using var stripped = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var id = await h.EnqueueAsync(Sender, ["bob@history.test"]);
        await h.Role(Options(stripped)).RunOnceAsync(CancellationToken.None);

        Assert.Single(stripped.Messages);
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal(("cleartext", true), (attempt.Transport, attempt.Downgrade));
    }

    [Fact]
    public async Task A_changed_certificate_key_is_recorded_with_both_keys_and_does_not_block()
    {
        await using var h = await Harness.CreateAsync();
        await using var first = ScriptedSmtpPeer.Start(new PeerScript { Certificate = PeerCertificates.SelfSigned("mx.history.test") });
        await h.EnqueueAsync(Sender, ["first@history.test"]);
        await h.Role(Options(first)).RunOnceAsync(CancellationToken.None);
        await using var second = ScriptedSmtpPeer.Start(new PeerScript { Certificate = PeerCertificates.SelfSigned("mx.history.test") });
        var id = await h.EnqueueAsync(Sender, ["bob@history.test"]);
        await h.Role(Options(second)).RunOnceAsync(CancellationToken.None);

        Assert.True(Assert.Single(second.Messages).OverTls);
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal(("encrypted", true, false), (attempt.Transport, attempt.KeyChanged, attempt.Downgrade));
        var history = await h.Database.PeerHistory.GetDetailAsync(PeerKey, PeerKey, CancellationToken.None);
        Assert.NotNull(history);
        Assert.Equal(
            new[] { PeerCertificates.SpkiSha256(second.Certificate), PeerCertificates.SpkiSha256(first.Certificate) },
            history.Keys.Select(k => k.Spki).ToArray());
        Assert.True(history.StartTlsOffered);
        Assert.NotNull(history.TlsEstablishedAt);
        Assert.Null(history.DowngradeAt);
    }
}
