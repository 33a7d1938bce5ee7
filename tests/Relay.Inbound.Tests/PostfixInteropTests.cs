using Relay.TestKit;
using Relay.TestKit.Postgres;
using Relay.TestKit.Smtp;

namespace Relay.Inbound.Tests;

/// <summary>Postfix's smtp client (PIPELINING, 8BITMIME, its own STARTTLS) relaying into the listener.</summary>
public class PostfixInteropTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Postfix_relays_over_starttls_and_the_message_arrives_intact_and_encrypted()
    {
        Assert.True(PostfixInstance.Available, "postfix is not installed or we are not root");
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var postfix = await PostfixInstance.StartAsync($"[127.0.0.1]:{listener.Endpoint.Port}", "encrypt");
        var sender = QueueRows.UniqueSender("postfix");
        await postfix.SendAsync(sender, "user@hosted.example", "Subject: via postfix\n\nline one\n.\n..two dots\nlast\n");

        StoredMessage? stored = null;
        for (var attempt = 0; attempt < 150 && stored is null; attempt++)
        {
            stored = (await QueueRows.FromSenderAsync(fixture.ConnectionString, sender)).SingleOrDefault();
            if (stored is null) await Task.Delay(200);
            if (attempt % 25 == 24) await postfix.FlushAsync();
        }
        Assert.True(stored is not null, "Postfix never delivered:\n" + postfix.Log());
        Assert.Equal("encrypted", stored!.Transport);
        Assert.Equal("postfix.test.example", stored.ClientHelo);
        Assert.Contains("with ESMTPS", stored.Body);
        // Postfix stuffed the dots; we unstuffed them: the content is what the user wrote, with CRLF.
        Assert.Contains("\r\n\r\nline one\r\n.\r\n..two dots\r\nlast\r\n", stored.Body);
        Assert.Contains("by postfix.test.example (Postfix", stored.Body);
        Assert.Contains("status=sent", postfix.Log());
    }

    [Fact]
    public async Task Postfix_smtp_source_with_20_pipelining_sessions_gets_every_message_queued_exactly_once()
    {
        Assert.True(File.Exists("/usr/sbin/smtp-source"), "smtp-source (Debian postfix) is not installed");
        await using var listener = await TestListener.StartAsync(fixture.Database);
        var sender = QueueRows.UniqueSender("smtp-source");
        await Processes.RunAsync("/usr/sbin/smtp-source", ["-s", "20", "-m", "500", "-l", "4096", "-f", sender, "-t", "u@hosted.example",
            $"127.0.0.1:{listener.Endpoint.Port}"], TimeSpan.FromSeconds(120));
        var stored = await QueueRows.FromSenderAsync(fixture.ConnectionString, sender);
        Assert.Equal(500, stored.Count);
        Assert.Equal(500, stored.Select(m => m.QueueId).Distinct().Count());
    }
}
