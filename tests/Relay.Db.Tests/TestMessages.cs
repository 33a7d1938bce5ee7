using System.Text;
using Relay.Db;

namespace Relay.Db.Tests;

internal static class TestMessages
{
    public static NewMessage Simple(string sender = "alice@example.org") => new(
        sender, Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nbody\r\n"), "192.0.2.1", "client.example", InboundSecurity.Cleartext);

    public static NewRecipient[] Recipients(int count, string domain = "example.net") =>
        Enumerable.Range(0, count).Select(i => new NewRecipient($"user{i}@{domain}")).ToArray();

    /// <summary>
    /// Enqueues <paramref name="messages"/> one-recipient messages for <paramref name="domain"/> and claims them. A test
    /// class has its own database, but its tests run one after the other on it: only this domain's claims are returned.
    /// </summary>
    public static async Task<IReadOnlyList<ClaimedRecipient>> EnqueueAndClaimAsync(RelayDatabase db, string domain, int messages)
    {
        for (var i = 0; i < messages; i++)
            await db.Queue.EnqueueAsync(Simple(), Recipients(1, domain), CancellationToken.None);
        var batches = await db.Queue.ClaimAsync(10_000, TimeSpan.FromMinutes(5), "w", CancellationToken.None);
        var claimed = batches.Where(b => b.NextHop == domain).SelectMany(b => b.Recipients).ToList();
        Xunit.Assert.Equal(messages, claimed.Count);
        return claimed;
    }
}
