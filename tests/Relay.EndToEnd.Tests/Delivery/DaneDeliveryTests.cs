using System.Text.Json;
using Relay.TestKit.Smtp.Peers;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// RFC 7672 on the real executable: `relay serve --roles delivery` resolves MX and TLSA through a validating
/// unbound over a signed world and delivers to real Postfix peers; each scenario checks what the peer got
/// AND what `relay queue show --json` records (transport, how, reason).
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed class DaneDeliveryTests(DeliveryWorldFixture world, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string Sender = "alice@" + DeliveryWorldFixture.SenderDomain;

    /// <summary>The reasons a session may legitimately carry when it fell back to cleartext on purpose.</summary>
    private static readonly string[] FallbackReasons = ["starttls-not-offered", "tls-handshake-failed", "starttls-refused", "policy-none"];

    private static string Recipient(string local, string domain) => $"{local}-{Guid.NewGuid():N}"[..20] + "@" + domain;

    private async Task<(string Recipient, JsonElement Shown)> DeliverAsync(string domain, params string[] states)
    {
        var recipient = Recipient(domain.Split('.')[0], domain);
        var id = await world.Queue.EnqueueAsync(Sender, [recipient]);
        await world.Queue.WaitForStatesAsync(id, Patience, states);
        var shown = await world.Queue.ShowAsync(id);
        output.WriteLine(shown.Describe());
        return (recipient, shown);
    }

    private static JsonElement Delivering(JsonElement shown) =>
        Assert.Single(shown.Attempts(), a => a.GetProperty("recipients").EnumerateArray().Any(r => r.Text("result") == "delivered"));

    [Fact]
    public async Task Secure_mx_with_matching_dane_ee_tlsa_is_delivered_verified_dane_ee()
    {
        var (recipient, shown) = await DeliverAsync($"ee.{DeliveryWorldFixture.Signed}", "delivered");

        await world.WaitForArrivalAsync(world.Postfix, recipient);
        var attempt = Delivering(shown);
        Assert.True(("verified", "dane-ee") == (attempt.Text("transport"), attempt.Text("how")), shown.Describe());
        Assert.Equal($"mx-ee.{DeliveryWorldFixture.Signed}", attempt.Text("peer"));
        Assert.Equal(("secure", "secure"), (attempt.Text("mxDnssec"), attempt.Text("tlsaStatus")));
        Assert.Equal(PeerCertificates.SpkiSha256(world.Leaf), attempt.Spki(), ignoreCase: true);
        Assert.Equal("delivered", Assert.Single(shown.Recipients()).Text("state"));
    }

    [Fact]
    public async Task Dane_ta_digest_of_the_ca_that_signed_the_peer_certificate_is_verified_dane_ta()
    {
        var (recipient, shown) = await DeliverAsync($"ta.{DeliveryWorldFixture.Signed}", "delivered", "deferred");

        Assert.True(Assert.Single(shown.Recipients()).Text("state") == "delivered", shown.Describe());
        await world.WaitForArrivalAsync(world.Postfix, recipient);
        var attempt = Delivering(shown);
        Assert.True(("verified", "dane-ta") == (attempt.Text("transport"), attempt.Text("how")), shown.Describe());
        Assert.Equal(DeliveryWorldFixture.LeafName, attempt.Text("peer"));
    }

    [Fact]
    public async Task Tlsa_mismatch_defers_and_nothing_reaches_the_peer_in_cleartext_or_otherwise()
    {
        var (recipient, shown) = await DeliverAsync($"mismatch.{DeliveryWorldFixture.Signed}", "deferred", "delivered", "bounced");

        Assert.True(Assert.Single(shown.Recipients()).Text("state") == "deferred", shown.Describe());
        Assert.False(await world.EverSeenAsync(world.Postfix, recipient), "the peer saw the recipient despite the TLSA mismatch");
        var attempts = shown.Attempts();
        Assert.NotEmpty(attempts);
        // Nothing past the handshake: no MAIL, RCPT or DATA ever went out, and no session fell back to cleartext.
        Assert.All(attempts, a => Assert.Contains(a.Text("stage"), new[] { "starttls", "tls" }));
        Assert.DoesNotContain(attempts, a => FallbackReasons.Any(r => a.Text("reason")?.StartsWith(r, StringComparison.Ordinal) == true));
        Assert.DoesNotContain(attempts, a => a.Text("transport") is "verified" or "trusted");
    }

    [Fact]
    public async Task Tlsa_published_but_no_starttls_offered_defers_without_sending_anything()
    {
        var (recipient, shown) = await DeliverAsync($"stripped.{DeliveryWorldFixture.Signed}", "deferred", "delivered", "bounced");

        Assert.True(Assert.Single(shown.Recipients()).Text("state") == "deferred", shown.Describe());
        Assert.False(await world.EverSeenAsync(world.Postfix, recipient), "mail went to a peer with TLSA but without STARTTLS");
        Assert.All(shown.Attempts(), a => Assert.Contains(a.Text("stage"), new[] { "ehlo", "starttls" }));
    }

    [Fact]
    public async Task Servfail_on_the_first_mx_tlsa_skips_it_and_delivers_through_the_second()
    {
        var (recipient, shown) = await DeliverAsync($"servfail.{DeliveryWorldFixture.Signed}", "delivered", "deferred");

        Assert.True(Assert.Single(shown.Recipients()).Text("state") == "delivered", shown.Describe());
        await world.WaitForArrivalAsync(world.Postfix, recipient);
        Assert.Equal(0, world.UntouchableConnections);
        var attempt = Delivering(shown);
        Assert.Equal($"mx-ok.{DeliveryWorldFixture.Signed}", attempt.Text("peer"));
        Assert.Equal(("verified", "dane-ee"), (attempt.Text("transport"), attempt.Text("how")));
        Assert.DoesNotContain(shown.Attempts(), a => a.Text("peer") == $"mx-sf.{DeliveryWorldFixture.Signed}");
    }

    [Fact]
    public async Task Only_unusable_tlsa_records_give_encrypted_and_never_cleartext()
    {
        var (recipient, shown) = await DeliverAsync($"unusable.{DeliveryWorldFixture.Signed}", "delivered", "deferred");

        Assert.True(Assert.Single(shown.Recipients()).Text("state") == "delivered", shown.Describe());
        await world.WaitForArrivalAsync(world.Postfix, recipient);
        var attempt = Delivering(shown);
        Assert.True(attempt.Text("transport") == "encrypted", shown.Describe());
        Assert.NotNull(attempt.Spki());
        Assert.DoesNotContain(shown.Attempts(), a => a.Text("transport") == "cleartext");
    }

    [Fact]
    public async Task Insecure_mx_pointing_at_a_host_with_valid_tlsa_in_a_signed_zone_is_trusted_never_verified()
    {
        var (recipient, shown) = await DeliverAsync($"trusted.{DeliveryWorldFixture.Plain}", "delivered", "deferred");

        Assert.True(Assert.Single(shown.Recipients()).Text("state") == "delivered", shown.Describe());
        await world.WaitForArrivalAsync(world.Postfix, recipient);
        var attempt = Delivering(shown);
        Assert.True(attempt.Text("transport") == "trusted", shown.Describe());
        Assert.Equal("insecure", attempt.Text("mxDnssec"));
        Assert.DoesNotContain(shown.Attempts(), a => a.Text("transport") == "verified");
    }

    [Fact]
    public async Task Unsigned_mx_and_self_signed_certificate_is_encrypted()
    {
        var (recipient, shown) = await DeliverAsync($"selfsigned.{DeliveryWorldFixture.Plain}", "delivered", "deferred");

        Assert.True(Assert.Single(shown.Recipients()).Text("state") == "delivered", shown.Describe());
        await world.WaitForArrivalAsync(world.SelfSignedPostfix, recipient);
        var attempt = Delivering(shown);
        Assert.Equal(("encrypted", "none", "insecure"), (attempt.Text("transport"), attempt.Text("how"), attempt.Text("mxDnssec")));
        Assert.Equal(PeerCertificates.SpkiSha256(world.SelfSigned), attempt.Spki(), ignoreCase: true);
    }
}
