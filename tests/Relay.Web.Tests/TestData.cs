using System.Text;
using Relay.Db;

namespace Relay.Web.Tests;

/// <summary>
/// Messages, attempts and inbound sessions written through Relay.Db exactly as the listener and delivery
/// write them: enqueue, then Attempts.RecordAsync with per-recipient outcomes.
/// </summary>
public sealed class TestData
{
    public const string ScriptPayload = "<script>window.__xss=1</script>";
    public const string ImgPayload = "<img src=x onerror=\"window.__xss=2\">";
    public const string AttributePayload = "\"><svg onload=window.__xss=3>";
    public const string FormulaReply = "=HYPERLINK(\"http://evil.example\",\"click\")";

    public string DeferredQueueId { get; private set; } = "";
    public string HoldQueueId { get; private set; } = "";
    public string XssQueueId { get; private set; } = "";

    public static readonly (string Name, string Address) Verified = ("mx1.secure.example", "192.0.2.10");
    public static readonly (string Name, string Address) Trusted = ("mx.pkix.example", "192.0.2.20");
    public static readonly (string Name, string Address) Cleartext = ("mx.plain.example", "192.0.2.30");
    public static readonly (string Name, string Address) Downgraded = ("mx.worse.example", "192.0.2.40");
    public static readonly (string Name, string Address) Hostile = ("mx.hostile.example", "192.0.2.66");

    public const string Spki = "8f1b1b8f6d0b7a8f0a4c7a1c2f8f2e6e0e9c1d2b3a4f5e6d7c8b9a0f1e2d3c4b";

    public static async Task<TestData> SeedAsync(RelayDatabase db)
    {
        var data = new TestData();
        var ct = CancellationToken.None;
        var now = DateTimeOffset.UtcNow;

        var delivered = await EnqueueAsync(db, "alice@example.org", ["bob@secure.example"], "client.example.org", "encrypted");
        await RecordAsync(db, delivered, new AttemptRecord("secure.example", Verified.Name, Verified.Address, 25, now.AddMinutes(-5), TimeSpan.FromMilliseconds(420),
            "quit", "250 2.0.0 Ok: queued as 4XyZ", "dane", "verified", "dane-ee", null, "TLSv1.3", "TLS_AES_256_GCM_SHA384", Spki,
            "CN=mx1.secure.example", "CN=mx1.secure.example\nCN=Example CA", ["3 1 1 " + Spki], "secure", "secure", "secure"), RecipientResult.Delivered);

        // An old cleartext attempt: "cleartext in the last week" finds this peer, "in the last day" does not.
        await db.Attempts.RecordAsync(new AttemptRecord("pkix.example", Trusted.Name, Trusted.Address, 25, now.AddDays(-3), TimeSpan.FromMilliseconds(90),
            "ehlo", "250 ok", "dane", "cleartext", "none", "starttls-not-offered"), [], ct);
        var trusted = await EnqueueAsync(db, "alice@example.org", ["carol@pkix.example"], "client.example.org", "encrypted");
        await RecordAsync(db, trusted, new AttemptRecord("pkix.example", Trusted.Name, Trusted.Address, 25, now.AddMinutes(-4), TimeSpan.FromMilliseconds(300),
            "quit", "250 ok", "dane", "trusted", "pkix", "mx lookup insecure", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", null, "CN=mx.pkix.example",
            TlsaStatus: "insecure", MxDnssec: "insecure", AddressDnssec: "insecure", Network: "ipsec-anonymous"), RecipientResult.Delivered);

        data.DeferredQueueId = await EnqueueAsync(db, "alice@example.org", ["dave@plain.example"], "client.example.org", "cleartext");
        await RecordAsync(db, data.DeferredQueueId, new AttemptRecord("plain.example", Cleartext.Name, Cleartext.Address, 25, now.AddMinutes(-3),
            TimeSpan.FromMilliseconds(200), "rcpt", "451 4.7.1 try again later", "dane", "cleartext", "none", "starttls-not-offered",
            TlsaStatus: "insecure", MxDnssec: "insecure", AddressDnssec: "insecure"), RecipientResult.Deferred, now.AddHours(1));

        data.HoldQueueId = await EnqueueAsync(db, "erin@example.org", ["frank@worse.example"], "client.example.org", "verified");
        await RecordAsync(db, data.HoldQueueId, new AttemptRecord("worse.example", Downgraded.Name, Downgraded.Address, 25, now.AddHours(-2),
            TimeSpan.FromMilliseconds(500), "quit", "250 ok", "dane", "verified", "dane-ta", null, "TLSv1.3", "TLS_AES_128_GCM_SHA256", Spki,
            TlsaRecords: ["2 1 1 " + Spki], TlsaStatus: "secure", MxDnssec: "secure", AddressDnssec: "secure"), RecipientResult.Deferred, now.AddHours(1));
        await RecordAsync(db, data.HoldQueueId, new AttemptRecord("worse.example", Downgraded.Name, Downgraded.Address, 25, now.AddMinutes(-1),
            TimeSpan.FromMilliseconds(500), "data", "452 4.3.1 insufficient storage", "dane", "encrypted", "none", "tlsa-lookup-failed",
            "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", new string('a', 64), TlsaStatus: "error", MxDnssec: "secure", AddressDnssec: "secure"),
            RecipientResult.Deferred, now.AddHours(1));

        // Everything a peer or a sender controls carries a payload: HELO, addresses, certificate names, replies, reasons.
        data.XssQueueId = await EnqueueAsync(db, $"\"{ScriptPayload}\"@evil.example", [$"\"{ImgPayload}\"@hostile.example"], $"helo{AttributePayload}{ScriptPayload}", "cleartext");
        await RecordAsync(db, data.XssQueueId, new AttemptRecord("hostile.example", Hostile.Name, Hostile.Address, 25, now.AddSeconds(-30),
            TimeSpan.FromMilliseconds(100), "rcpt", $"550 5.1.1 {ImgPayload} {ScriptPayload}", "may", "encrypted", "none", $"cert-name-mismatch {AttributePayload}",
            "TLSv1.3", "TLS_AES_256_GCM_SHA384", new string('b', 64), $"{FormulaReply} CN={ScriptPayload}, O={ImgPayload}", $"CN={AttributePayload}\nCN={ScriptPayload}",
            [$"3 1 1 {AttributePayload}"], "secure", "insecure", "insecure"), RecipientResult.Bounced, replyOverride: FormulaReply);

        var cleartextSession = await db.Sessions.StartAsync(new InboundSessionStart("smtp", "198.51.100.7"), ct);
        await db.Sessions.EndAsync(cleartextSession, "legacy.sender.example", InboundSecurity.Cleartext, null, 1, "quit", ct);
        var hostileSession = await db.Sessions.StartAsync(new InboundSessionStart("smtp", "203.0.113.66"), ct);
        await db.Sessions.EndAsync(hostileSession, $"{ScriptPayload}{ImgPayload}", new InboundSecurity("encrypted", "TLSv1.3", "TLS_AES_128_GCM_SHA256"), null, 0,
            $"quit {AttributePayload}", ct);
        return data;
    }

    private static async Task<string> EnqueueAsync(RelayDatabase db, string sender, IReadOnlyList<string> recipients, string helo, string inbound) =>
        await db.Queue.EnqueueAsync(new NewMessage(sender, Encoding.ASCII.GetBytes("Subject: test\r\n\r\nhello\r\n"), "198.51.100.7", helo,
            inbound == "cleartext" ? InboundSecurity.Cleartext : new InboundSecurity(inbound, "TLSv1.3", "TLS_AES_256_GCM_SHA384")),
            recipients.Select(r => new NewRecipient(r)).ToList(), CancellationToken.None);

    public static async Task RecordAsync(RelayDatabase db, string queueId, AttemptRecord attempt, RecipientResult result, DateTimeOffset? next = null,
        string? replyOverride = null)
    {
        var message = await db.QueueReader.GetMessageAsync(queueId, CancellationToken.None) ?? throw new InvalidOperationException(queueId);
        await db.Attempts.RecordAsync(attempt, message.Recipients.Select(r => new RecipientOutcome(r.Id, result, replyOverride ?? attempt.Reply, next)).ToList(),
            CancellationToken.None);
    }
}
