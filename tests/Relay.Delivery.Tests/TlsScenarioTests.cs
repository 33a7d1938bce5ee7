using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>Transport security against scripted peers on loopback routes: delivery result AND recorded outcome.</summary>
public class TlsScenarioTests
{
    private const string Sender = "alice@origin.test";

    [Fact]
    public async Task Peer_without_starttls_gets_the_mail_in_cleartext_recorded_as_starttls_not_offered()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var id = await h.EnqueueAsync(Sender, ["bob@plain.test"]);

        await h.Role(Harness.Options(("plain.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        var message = Assert.Single(peer.Messages);
        Assert.False(message.OverTls);
        var detail = await h.ShowAsync(id);
        Assert.Equal("delivered", Assert.Single(detail.Recipients).State);
        var attempt = Assert.Single(detail.Attempts);
        Assert.Equal("cleartext", attempt.Transport);
        Assert.Equal("starttls-not-offered", attempt.Reason);
        Assert.Equal("dot", attempt.Stage);
        Assert.Null(attempt.TlsVersion);
    }

    [Fact]
    public async Task Self_signed_peer_is_encrypted_with_version_cipher_and_spki_recorded()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { Name = "mx.selfsigned.test" });
        var id = await h.EnqueueAsync(Sender, ["bob@selfsigned.test"]);

        await h.Role(Harness.Options(("selfsigned.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        var message = Assert.Single(peer.Messages);
        Assert.True(message.OverTls);
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal("encrypted", attempt.Transport);
        Assert.Equal("none", attempt.How);
        Assert.StartsWith("TLSv1.", attempt.TlsVersion);
        Assert.False(string.IsNullOrEmpty(attempt.TlsCipher));
        Assert.Equal(PeerCertificates.SpkiSha256(peer.Certificate), attempt.Spki);
        Assert.Equal("delivered", Assert.Single((await h.ShowAsync(id)).Recipients).State);
        // EHLO again after the handshake: capabilities from before TLS are not trusted (RFC 3207 §4.2).
        Assert.Equal(2, peer.Transcript.Count(l => l.StartsWith("#1 C: EHLO", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Handshake_failure_on_may_peer_retries_on_a_new_connection_in_cleartext_and_says_why()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { BreakHandshake = true });
        await h.Database.Policies.SetAsync("broken.test", "may", [], [], null, CancellationToken.None);
        var id = await h.EnqueueAsync(Sender, ["bob@broken.test"]);

        await h.Role(Harness.Options(("broken.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Equal(2, peer.Connections);
        var message = Assert.Single(peer.Messages);
        Assert.False(message.OverTls);
        Assert.Equal(2, message.Connection);
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal("cleartext", attempt.Transport);
        Assert.StartsWith("tls-handshake-failed: ", attempt.Reason);
        Assert.Equal("may", attempt.PolicyLevel);
    }

    [Fact]
    public async Task Explicit_encrypt_to_peer_without_starttls_defers_and_sends_nothing()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        await h.Database.Policies.SetAsync("strict.test", "encrypt", [], [], null, CancellationToken.None);
        var id = await h.EnqueueAsync(Sender, ["bob@strict.test"]);

        await h.Role(Harness.Options(("strict.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Empty(peer.Messages);
        Assert.DoesNotContain(peer.Transcript, l => l.Contains("C: MAIL", StringComparison.Ordinal));
        var detail = await h.ShowAsync(id);
        var recipient = Assert.Single(detail.Recipients);
        Assert.Equal("deferred", recipient.State);
        Assert.True(recipient.NextAttempt > DateTimeOffset.UtcNow.AddMinutes(4));
        // Nothing was sent, so no transport is claimed (not even cleartext); the TLS failure is named for TLS reports.
        var attempt = Assert.Single(detail.Attempts, a => a.Peer is not null);
        Assert.Equal((null, "starttls-not-supported", "encrypt"), (attempt.Transport, attempt.ResultType, attempt.PolicyLevel));
        Assert.Equal("STARTTLS not offered; policy encrypt requires TLS", attempt.Reason);
        Assert.All(detail.Attempts, a => Assert.Null(a.Transport));
    }

    [Fact]
    public async Task Response_injected_after_starttls_aborts_the_session_and_nothing_is_sent()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { InjectAfterStartTls = "250 injected\r\n" });
        var id = await h.EnqueueAsync(Sender, ["bob@inject.test"]);

        await h.Role(Harness.Options(("inject.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Empty(peer.Messages);
        Assert.Equal(1, peer.Connections); // no cleartext retry for an attacked session
        var detail = await h.ShowAsync(id);
        Assert.Equal("deferred", Assert.Single(detail.Recipients).State);
        var attempt = Assert.Single(detail.Attempts, a => a.Peer is not null);
        Assert.Equal("starttls", attempt.Stage);
        Assert.Contains("response injection", attempt.Reply);
    }

    [Fact]
    public async Task Requiretls_message_never_goes_in_cleartext_even_where_policy_would_allow_it()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var id = await h.EnqueueAsync(Sender, ["bob@reqtls.test"], requireTls: true);

        await h.Role(Harness.Options(("reqtls.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Empty(peer.Messages);
        Assert.Equal("deferred", Assert.Single((await h.ShowAsync(id)).Recipients).State);
    }

    [Fact]
    public async Task Refused_starttls_on_opportunistic_peer_falls_back_on_a_new_connection()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { StartTlsReply = "454 4.7.0 TLS not available" });
        var id = await h.EnqueueAsync(Sender, ["bob@refuse.test"]);

        await h.Role(Harness.Options(("refuse.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Single(peer.Messages);
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal("cleartext", attempt.Transport);
        Assert.StartsWith("starttls-refused: 454", attempt.Reason);
    }
}
