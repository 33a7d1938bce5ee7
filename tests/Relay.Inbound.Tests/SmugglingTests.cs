using Relay.TestKit.Postgres;

namespace Relay.Inbound.Tests;

/// <summary>
/// SMTP smuggling (CVE-2023-51766 and friends): a message carrying a fake end of data followed by a second,
/// smuggled transaction. Relay must see one message only, never one from the smuggled sender.
/// </summary>
public class SmugglingTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    public static TheoryData<string> Sequences => new()
    {
        "\n.\n", "\n.\r\n", "\r.\r", "\r.\n", "\n.\r", "\r\n.\r", "\r\n.\n", "\r.\r\n", "\r\n\0.\r\n", "\r\n.\0\r\n",
        "\n\n.\n\n", "\r\r\n.\r\r\n", "\r\n\x20.\r\n",
    };

    [Theory]
    [MemberData(nameof(Sequences))]
    public Task A_smuggled_transaction_behind_a_fake_end_of_data_is_never_queued(string fakeEnd) =>
        SmuggleAsync(fakeEnd, smuggled => $"MAIL FROM:<{smuggled}>\r\nRCPT TO:<victim@hosted.example>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n");

    // BDAT may legally be pipelined, so this payload is not stopped by the pipelining rules: only the data reader stands in the way.
    [Theory]
    [MemberData(nameof(Sequences))]
    public Task A_smuggled_bdat_transaction_behind_a_fake_end_of_data_is_never_queued(string fakeEnd) =>
        SmuggleAsync(fakeEnd, smuggled => $"MAIL FROM:<{smuggled}>\r\nRCPT TO:<victim@hosted.example>\r\nBDAT 21 LAST\r\nSubject: smuggled\r\n\r\n\r\n.\r\n");

    private async Task SmuggleAsync(string fakeEnd, Func<string, string> payload)
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("legit");
        var smuggled = QueueRows.UniqueSender("smuggled");
        await client.CommandAsync("EHLO client.example");
        Assert.Equal(250, (await client.CommandAsync($"MAIL FROM:<{sender}>")).Code);
        Assert.Equal(250, (await client.CommandAsync("RCPT TO:<user@hosted.example>")).Code);
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        await client.SendAsync("Subject: legit\r\n\r\nhello" + fakeEnd
            + payload(smuggled));
        var reply = await client.ReadReplyAsync();
        Assert.StartsWith("250 2.0.0 Ok: queued as", reply.ToString());
        // Exactly one reply: the session is in sync and idle.
        Assert.Equal("250 2.0.0 Ok", (await client.CommandAsync("NOOP")).ToString());

        var legit = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Empty(await QueueRows.FromSenderAsync(fixture.ConnectionString, smuggled));
        Assert.Equal(["user@hosted.example"], legit.Recipients.Select(r => r.Address));
        Assert.Contains($"MAIL FROM:<{smuggled}>", legit.Body);
        for (var i = 0; i < legit.Body.Length; i++)
        {
            if (legit.Body[i] == '\r') Assert.Equal('\n', legit.Body[i + 1]);
            if (legit.Body[i] == '\n') Assert.Equal('\r', legit.Body[i - 1]);
        }
    }
}
