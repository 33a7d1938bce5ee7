using System.Text;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>
/// RFC 8689 §4.2.1 and §5 outbound: a REQUIRETLS message goes only to a `verified` peer that announced REQUIRETLS
/// after STARTTLS; a peer reached over TLS that fails either gets QUIT and no MAIL, and when no peer qualifies the
/// message bounces with 5.7.30. Each test asserts the delivery result AND the recorded attempts.
/// </summary>
public class RequireTlsScenarioTests(DaneWorldFixture world) : IClassFixture<DaneWorldFixture>
{
    private const string Sender = "alice@origin.test";

    private async Task<(Harness H, string Id)> DeliverDaneAsync(string recipient)
    {
        var h = await Harness.CreateAsync();
        var id = await h.EnqueueAsync(Sender, [recipient], body: "Subject: secret\r\n\r\nthe secret body\r\n", requireTls: true);
        await h.Role(Harness.Options() with { Port = 25 }, world.Resolver).RunOnceAsync(CancellationToken.None);
        return (h, id);
    }

    private static bool MailSentTo(ScriptedSmtpPeer peer, string recipient) =>
        peer.Transcript.Any(l => l.Contains($"C: RCPT TO:<{recipient}>", StringComparison.Ordinal));

    private static async Task AssertBouncedWith5730Async(Harness h, string id)
    {
        var detail = await h.ShowAsync(id);
        var recipient = Assert.Single(detail.Recipients);
        Assert.Equal("bounced", recipient.State);
        Assert.Contains("5.7.30", recipient.LastResult);
        var dsn = Assert.Single(await h.BouncesAsync());
        var text = Encoding.UTF8.GetString(dsn.Body);
        Assert.Contains("Status: 5.7.30", text);
        Assert.Contains("Action: failed", text);
        // RFC 8689 §5: reported as if RET=HDRS, the body the sender wanted protected is not returned.
        Assert.Contains("Content-Type: text/rfc822-headers", text);
        Assert.Contains("Subject: secret", text);
        Assert.DoesNotContain("the secret body", text);
    }

    [Fact]
    public async Task Requiretls_message_to_a_dane_verified_peer_offering_requiretls_is_delivered_with_requiretls_on_mail_from()
    {
        var (h, id) = await DeliverDaneAsync("rt1@requiretls.dane.test");
        await using var _ = h;
        var peer = world.Peers["mx-rt"];
        var message = Assert.Single(peer.Messages, m => m.Recipients.Contains("rt1@requiretls.dane.test"));
        Assert.True(message.OverTls);
        Assert.Contains(peer.Transcript, l => l.Contains("C: MAIL FROM:<alice@origin.test>", StringComparison.Ordinal)
                                              && l.EndsWith(" REQUIRETLS", StringComparison.Ordinal));
        var detail = await h.ShowAsync(id);
        Assert.Equal("delivered", Assert.Single(detail.Recipients).State);
        var attempt = Assert.Single(detail.Attempts);
        Assert.Equal(("verified", "dane-ee", "dot"), (attempt.Transport, attempt.How, attempt.Stage));
        Assert.Empty(await h.BouncesAsync());
    }

    [Fact]
    public async Task Requiretls_message_to_a_dane_verified_peer_without_requiretls_is_not_sent_and_bounces_5_7_30()
    {
        var (h, id) = await DeliverDaneAsync("rt2@ee.dane.test");
        await using var _ = h;
        var peer = world.Peers["mx-ee"];
        Assert.False(MailSentTo(peer, "rt2@ee.dane.test"));
        await AssertBouncedWith5730Async(h, id);
        var refused = Assert.Single((await h.ShowAsync(id)).Attempts, a => a.Peer is not null);
        // Refused before MAIL: nothing sent, so no transport word; the TLS the channel really had stays recorded.
        Assert.Equal((null, "none", "ehlo"), (refused.Transport, refused.How, refused.Stage));
        Assert.NotNull(refused.TlsVersion);
        Assert.Equal("requiretls: peer did not offer REQUIRETLS", refused.Reason);
        Assert.Equal("rt2@ee.dane.test", Assert.Single(refused.Recipients).Address);
    }

    [Fact]
    public async Task Requiretls_message_defers_when_one_peer_was_unreachable_and_the_other_lacked_requiretls()
    {
        // Only "every peer reached, none can do REQUIRETLS" is final; the unreachable MX 10 may be the one that can.
        var (h, id) = await DeliverDaneAsync("rt3@deadfirst.dane.test");
        await using var _ = h;
        Assert.False(MailSentTo(world.Peers["mx-ee"], "rt3@deadfirst.dane.test"));
        var detail = await h.ShowAsync(id);
        Assert.Equal("deferred", Assert.Single(detail.Recipients).State);
        Assert.Contains(detail.Attempts, a => a.Peer == "mx-dead.dane.test" && a.Stage == "connect");
        Assert.Contains(detail.Attempts, a => a.Peer == "mx-ee.dane.test" && a.Reason == "requiretls: peer did not offer REQUIRETLS");
        Assert.Empty(await h.BouncesAsync());
    }

    [Fact]
    public async Task Requiretls_message_to_a_self_signed_peer_offering_requiretls_is_not_sent_and_bounces_5_7_30()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { Name = "mx.enc.test", OfferRequireTls = true });
        var id = await h.EnqueueAsync(Sender, ["bob@enc.test"], body: "Subject: secret\r\n\r\nthe secret body\r\n", requireTls: true);

        await h.Role(Harness.Options(("enc.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Empty(peer.Messages);
        Assert.DoesNotContain(peer.Transcript, l => l.Contains("C: MAIL", StringComparison.Ordinal));
        Assert.Contains(peer.Transcript, l => l.Contains("C: QUIT", StringComparison.Ordinal));
        Assert.Contains(peer.Transcript, l => l.Contains("S: 250 REQUIRETLS", StringComparison.Ordinal) || l.Contains("S: 250-REQUIRETLS", StringComparison.Ordinal));
        await AssertBouncedWith5730Async(h, id);
        var refused = Assert.Single((await h.ShowAsync(id)).Attempts, a => a.Peer is not null);
        Assert.Null(refused.Transport);
        Assert.StartsWith("requiretls: peer not authenticated (encrypted)", refused.Reason);
        Assert.StartsWith("TLSv1.", refused.TlsVersion);
    }

    [Fact]
    public async Task Requiretls_message_to_a_peer_without_starttls_is_not_sent_and_deferred_not_bounced()
    {
        // A missing STARTTLS is what an attacker stripping it looks like: no evidence retrying cannot change, so defer.
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false, OfferRequireTls = true });
        var id = await h.EnqueueAsync(Sender, ["bob@plain.test"], requireTls: true);

        await h.Role(Harness.Options(("plain.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Empty(peer.Messages);
        Assert.DoesNotContain(peer.Transcript, l => l.Contains("C: MAIL", StringComparison.Ordinal));
        var detail = await h.ShowAsync(id);
        Assert.Equal("deferred", Assert.Single(detail.Recipients).State);
        var failed = Assert.Single(detail.Attempts, a => a.Peer is not null);
        Assert.Equal((null, "STARTTLS not offered; the message (REQUIRETLS) requires TLS", "starttls-not-supported"),
            (failed.Transport, failed.Reason, failed.ResultType));
        Assert.Empty(await h.BouncesAsync());
    }

    [Fact]
    public async Task Ordinary_message_in_the_same_batch_still_goes_to_the_encrypted_peer_the_requiretls_one_refused()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { Name = "mx.mixed.test", OfferRequireTls = true });
        var secret = await h.EnqueueAsync(Sender, ["bob@mixed.test"], requireTls: true);
        var ordinary = await h.EnqueueAsync(Sender, ["carol@mixed.test"]);

        await h.Role(Harness.Options(("mixed.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        var message = Assert.Single(peer.Messages);
        Assert.Equal(["carol@mixed.test"], message.Recipients);
        Assert.True(message.OverTls);
        Assert.DoesNotContain(peer.Transcript, l => l.Contains("REQUIRETLS", StringComparison.Ordinal) && l.Contains("C: MAIL", StringComparison.Ordinal));
        var delivered = await h.ShowAsync(ordinary);
        Assert.Equal("delivered", Assert.Single(delivered.Recipients).State);
        Assert.Equal(("encrypted", "dot"), (Assert.Single(delivered.Attempts).Transport, Assert.Single(delivered.Attempts).Stage));
        var bounced = await h.ShowAsync(secret);
        Assert.Equal("bounced", Assert.Single(bounced.Recipients).State);
        Assert.Contains(bounced.Attempts, a => a.Peer is not null && a.Reason?.StartsWith("requiretls: peer not authenticated (encrypted)", StringComparison.Ordinal) == true);
    }
}
