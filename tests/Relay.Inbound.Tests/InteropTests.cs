using Relay.TestKit;
using Relay.TestKit.Postgres;

namespace Relay.Inbound.Tests;

/// <summary>Independent, real SMTP clients (swaks, Python's smtplib) against the listener.</summary>
public class InteropTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Swaks_delivers_over_starttls_and_the_message_is_stored_encrypted()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        var sender = QueueRows.UniqueSender("swaks-tls");
        var output = await Processes.RunAsync("swaks", ["--server", "127.0.0.1", "--port", listener.Endpoint.Port.ToString(), "--tls",
            "--ehlo", "swaks.example", "--from", sender, "--to", "user@hosted.example", "--header", "Subject: swaks", "--body", "hello from swaks"], Timeout);
        Assert.Contains("queued as", output);
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Equal("encrypted", stored.Transport);
        Assert.Contains("with ESMTPS", stored.Body);
        Assert.Contains("hello from swaks", stored.Body);
    }

    [Fact]
    public async Task Swaks_with_pipelining_over_cleartext_is_accepted()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        var pipelined = QueueRows.UniqueSender("swaks-pipe");
        await Processes.RunAsync("swaks", ["--server", "127.0.0.1", "--port", listener.Endpoint.Port.ToString(), "--pipeline",
            "--from", pipelined, "--to", "a@hosted.example,b@hosted.example", "--body", "pipelined"], Timeout);
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, pipelined));
        Assert.Equal(2, stored.Recipients.Count);
        Assert.Equal("cleartext", stored.Transport);
        Assert.DoesNotContain("ESMTPS", stored.Body);
    }

    [Fact]
    public async Task Swaks_relay_attempt_from_an_untrusted_address_is_refused()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Processes.RunAsync("swaks", ["--server", "127.0.0.1",
            "--port", listener.Endpoint.Port.ToString(), "--from", "a@b.example", "--to", "victim@elsewhere.example"], Timeout));
        Assert.Contains("554 5.7.1 Relay access denied", error.Message);
    }

    [Fact]
    public async Task Python_smtplib_delivers_with_starttls_and_dsn_options()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        var sender = QueueRows.UniqueSender("smtplib");
        var script = $$"""
            import smtplib, ssl
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with smtplib.SMTP("127.0.0.1", {{listener.Endpoint.Port}}, local_hostname="python.example", timeout=30) as s:
                s.starttls(context=ctx)
                s.ehlo("python.example")
                assert s.has_extn("dsn") and not s.has_extn("starttls")
                refused = s.sendmail("{{sender}}", ["user@hosted.example"], b"Subject: smtplib\r\n\r\nhello from python\r\n",
                                     mail_options=["RET=HDRS"], rcpt_options=["NOTIFY=FAILURE"])
                assert refused == {}, refused
                try:
                    s.sendmail("{{sender}}", ["victim@elsewhere.example"], b"Subject: relay\r\n\r\nx\r\n")
                    raise SystemExit("relay was open")
                except smtplib.SMTPRecipientsRefused as e:
                    assert e.recipients["victim@elsewhere.example"][0] == 554, e.recipients
            print("ok")
            """;
        var path = Path.Combine(Path.GetTempPath(), $"relay-smtplib-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(path, script);
        try { Assert.Contains("ok", await Processes.RunAsync("python3", [path], Timeout)); }
        finally { File.Delete(path); }
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Equal(("encrypted", "HDRS", "FAILURE"), (stored.Transport, stored.Ret, stored.Recipients.Single().Notify));
        Assert.Equal("python.example", stored.ClientHelo);
    }
}
