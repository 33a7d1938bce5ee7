using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>RFC 7672 delivery through Relay.Policy's planner against a signed DNS world: result AND recorded outcome.</summary>
public class DaneScenarioTests(DaneWorldFixture world) : IClassFixture<DaneWorldFixture>
{
    private const string Sender = "alice@origin.test";

    private async Task<(Harness H, string Id)> DeliverAsync(string recipient)
    {
        var h = await Harness.CreateAsync();
        var id = await h.EnqueueAsync(Sender, [recipient]);
        await h.Role(Harness.Options() with { Port = 25 }, world.Resolver).RunOnceAsync(CancellationToken.None);
        return (h, id);
    }

    private ScriptedSmtpPeer Peer(string key) => world.Peers[key];

    private static bool Received(ScriptedSmtpPeer peer, string recipient) => peer.Messages.Any(m => m.Recipients.Contains(recipient));

    [Fact]
    public async Task Dane_ee_match_is_verified_with_secure_mx_and_tlsa_recorded()
    {
        var (h, id) = await DeliverAsync("ee1@ee.dane.test");
        await using var _ = h;
        Assert.True(Received(Peer("mx-ee"), "ee1@ee.dane.test"));
        var detail = await h.ShowAsync(id);
        Assert.Equal("delivered", Assert.Single(detail.Recipients).State);
        var attempt = Assert.Single(detail.Attempts);
        Assert.Equal(("verified", "dane-ee"), (attempt.Transport, attempt.How));
        Assert.Equal(("secure", "secure", "secure"), (attempt.MxDnssec, attempt.AddressDnssec, attempt.TlsaStatus));
        Assert.Single(attempt.Tlsa);
        Assert.Equal("dane", attempt.PolicyLevel);
    }

    [Fact]
    public async Task Dane_ta_chain_is_verified()
    {
        var (h, id) = await DeliverAsync("ta1@ta.dane.test");
        await using var _ = h;
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.True(Received(Peer("mx-ta"), "ta1@ta.dane.test"), $"{attempt.Stage}: {attempt.Reply} / {attempt.Reason}");
        Assert.Equal(("verified", "dane-ta"), (attempt.Transport, attempt.How));
    }

    [Fact]
    public async Task Tlsa_mismatch_defers_and_nothing_goes_in_cleartext()
    {
        var (h, id) = await DeliverAsync("mm1@mismatch.dane.test");
        await using var _ = h;
        Assert.False(Received(Peer("mx-mm"), "mm1@mismatch.dane.test"));
        var detail = await h.ShowAsync(id);
        Assert.Equal("deferred", Assert.Single(detail.Recipients).State);
        Assert.DoesNotContain(detail.Attempts, a => a.Stage is "dot" or "mail" or "rcpt");
        Assert.Contains(detail.Attempts, a => a.Stage == "tls");
    }

    [Fact]
    public async Task Tlsa_published_but_starttls_stripped_defers()
    {
        var (h, id) = await DeliverAsync("st1@stripped.dane.test");
        await using var _ = h;
        Assert.False(Received(Peer("mx-st"), "st1@stripped.dane.test"));
        Assert.DoesNotContain(Peer("mx-st").Transcript, l => l.Contains("C: MAIL", StringComparison.Ordinal));
        Assert.Equal("deferred", Assert.Single((await h.ShowAsync(id)).Recipients).State);
    }

    [Fact]
    public async Task Servfail_on_tlsa_skips_that_mx_and_the_next_one_gets_the_mail()
    {
        var before = Peer("mx-sf").Connections;
        var (h, id) = await DeliverAsync("sf1@servfail.dane.test");
        await using var _ = h;
        Assert.Equal(before, Peer("mx-sf").Connections);
        Assert.True(Received(Peer("mx-ok"), "sf1@servfail.dane.test"));
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal("mx-ok.dane.test", attempt.Peer);
    }

    [Fact]
    public async Task Only_unusable_tlsa_gives_encrypted_never_cleartext()
    {
        var (h, id) = await DeliverAsync("un1@unusable.dane.test");
        await using var _ = h;
        var message = Peer("mx-un").Messages.Single(m => m.Recipients.Contains("un1@unusable.dane.test"));
        Assert.True(message.OverTls);
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal("encrypted", attempt.Transport);
    }

    [Fact]
    public async Task Insecure_mx_with_valid_tlsa_is_trusted_not_verified()
    {
        var (h, id) = await DeliverAsync("tr1@trusted.plain.test");
        await using var _ = h;
        Assert.True(Received(Peer("mx-ee"), "tr1@trusted.plain.test"));
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.True(("trusted", "dane-ee", "insecure") == (attempt.Transport, attempt.How, attempt.MxDnssec),
            $"{attempt.Transport} {attempt.How} {attempt.MxDnssec} {attempt.Reason} {attempt.PolicyLevel} {attempt.TlsaStatus}");
    }

    [Fact]
    public async Task No_dnssec_and_self_signed_certificate_is_encrypted()
    {
        var (h, id) = await DeliverAsync("ss1@selfsigned.plain.test");
        await using var _ = h;
        Assert.True(Received(Peer("mx-ss"), "ss1@selfsigned.plain.test"));
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal(("encrypted", "none", "insecure"), (attempt.Transport, attempt.How, attempt.MxDnssec));
    }

    [Fact]
    public async Task Null_mx_from_real_dns_bounces_with_5_1_10()
    {
        var (h, id) = await DeliverAsync("n1@nullmx.plain.test");
        await using var _ = h;
        var recipient = Assert.Single((await h.ShowAsync(id)).Recipients);
        Assert.Equal("bounced", recipient.State);
        Assert.Contains("5.1.10", recipient.LastResult);
    }

    [Fact]
    public async Task Servfail_on_mx_defers_never_bounces()
    {
        var (h, id) = await DeliverAsync("b1@broken.test");
        await using var _ = h;
        var detail = await h.ShowAsync(id);
        Assert.Equal("deferred", Assert.Single(detail.Recipients).State);
        Assert.Equal("bogus", Assert.Single(detail.Attempts).MxDnssec);
        Assert.Empty(await h.BouncesAsync());
    }
}
