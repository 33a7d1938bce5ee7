using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>
/// DATA at the end of the envelope's pipelined group (RFC 2920 §3.1): one round trip fewer per message, and the cases
/// where the 354 must not be followed by the message: every recipient refused, a server that says 354 anyway, a
/// refused DATA command.
/// </summary>
public class PipelinedDataTests
{
    private const string Sender = "alice@origin.test";

    [Fact]
    public async Task Mail_rcpt_and_data_arrive_as_one_group_when_the_peer_offers_pipelining()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var id = await h.EnqueueAsync(Sender, ["bob@group.test", "carol@group.test"]);

        await h.Role(Harness.Options(("group.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Equal(["bob@group.test", "carol@group.test"], Assert.Single(peer.Messages).Recipients);
        var arrivals = string.Join(" ", peer.Arrivals);
        Assert.Contains("MAIL+ RCPT+ RCPT+ DATA", arrivals);
        Assert.All((await h.ShowAsync(id)).Recipients, r => Assert.Equal("delivered", r.State));
    }

    [Fact]
    public async Task Without_pipelining_data_waits_for_the_rcpt_replies()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false, Pipelining = false });
        var id = await h.EnqueueAsync(Sender, ["bob@onebyone.test"]);

        await h.Role(Harness.Options(("onebyone.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Single(peer.Messages);
        Assert.Contains("MAIL RCPT DATA", string.Join(" ", peer.Arrivals));
        Assert.Equal("delivered", Assert.Single((await h.ShowAsync(id)).Recipients).State);
    }

    [Fact]
    public async Task Every_recipient_refused_sends_no_message_and_the_session_carries_the_next_one()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            OfferStartTls = false, RcptReply = a => a.StartsWith("nobody", StringComparison.Ordinal) ? "550 5.1.1 no such user" : "250 2.1.5 ok",
        });
        var refused = await h.EnqueueAsync(Sender, ["nobody@refuse.test"]);
        var accepted = await h.EnqueueAsync(Sender, ["bob@refuse.test"]);

        await h.Role(Harness.Options(("refuse.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, peer.Connections);
        Assert.Equal(["bob@refuse.test"], Assert.Single(peer.Messages).Recipients);
        var bounced = Assert.Single((await h.ShowAsync(refused)).Recipients);
        Assert.Equal("bounced", bounced.State);
        Assert.Contains("550 5.1.1 no such user", bounced.LastResult);
        Assert.Equal("delivered", Assert.Single((await h.ShowAsync(accepted)).Recipients).State);
    }

    [Fact]
    public async Task A_354_after_every_recipient_was_refused_is_ended_with_a_lone_dot_and_is_no_delivery()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            OfferStartTls = false, DataCommandReply = "354 go ahead", RcptReply = _ => "550 5.1.1 no such user",
        });
        var id = await h.EnqueueAsync(Sender, ["nobody@broken.test"], body: "Subject: secret\r\n\r\nnot for anyone\r\n");

        await h.Role(Harness.Options(("broken.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Empty(peer.Messages);
        // The lone dot, three octets: none of the message went to a server that had no recipient for it.
        Assert.Contains(peer.Transcript, l => l.EndsWith("C: <3 octets of data with no transaction>", StringComparison.Ordinal));
        Assert.DoesNotContain(peer.Transcript, l => l.Contains("not for anyone", StringComparison.Ordinal));
        var recipient = Assert.Single((await h.ShowAsync(id)).Recipients);
        Assert.Equal("bounced", recipient.State);
        Assert.Contains("550 5.1.1 no such user", recipient.LastResult);
    }

    [Fact]
    public async Task A_refused_pipelined_data_command_defers_with_its_reply_and_sends_no_body()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false, DataCommandReply = "451 4.3.0 not now" });
        var id = await h.EnqueueAsync(Sender, ["bob@later.test"]);

        await h.Role(Harness.Options(("later.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Empty(peer.Messages);
        var detail = await h.ShowAsync(id);
        var recipient = Assert.Single(detail.Recipients);
        Assert.Equal("deferred", recipient.State);
        Assert.Contains("451 4.3.0 not now", recipient.LastResult);
        Assert.Equal("data", Assert.Single(detail.Attempts).Stage);
        Assert.Contains(peer.Transcript, l => l.EndsWith("C: RSET", StringComparison.Ordinal));
    }
}
