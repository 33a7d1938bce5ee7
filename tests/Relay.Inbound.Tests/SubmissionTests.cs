using System.Net;
using System.Net.Security;
using System.Text;
using Relay.Db;
using Relay.TestKit.Postgres;
using Relay.TestKit.Smtp;

namespace Relay.Inbound.Tests;

public class SubmissionTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private const string Password = "correct horse battery staple";

    private Task<TestListener> StartAsync() => TestListener.StartAsync(fixture.Database, o =>
    {
        o.Submission = [new IPEndPoint(IPAddress.Loopback, 0)];
        o.ImplicitTls = [new IPEndPoint(IPAddress.Loopback, 0)];
        o.Credentials = new Dictionary<string, string> { ["alice"] = PasswordHasher.Hash(Password, PasswordHasher.MinimumIterations) };
    });

    private static string Plain(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    [Fact]
    public async Task Submission_requires_starttls_before_auth_and_auth_before_mail()
    {
        await using var listener = await StartAsync();
        await using var client = await listener.ConnectAsync(listener.Role.SubmissionEndpoints[0]);
        var ehlo = await client.CommandAsync("EHLO c");
        Assert.DoesNotContain(ehlo.Lines, l => l.StartsWith("AUTH", StringComparison.Ordinal));
        Assert.StartsWith("530 5.7.0", (await client.CommandAsync("AUTH PLAIN " + Plain("alice", Password))).ToString());
        Assert.StartsWith("530 5.7.0", (await client.CommandAsync("MAIL FROM:<alice@hosted.example>")).ToString());
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        Assert.Contains("AUTH PLAIN LOGIN", (await client.CommandAsync("EHLO c")).Lines);
        Assert.StartsWith("530 5.7.0", (await client.CommandAsync("MAIL FROM:<alice@hosted.example>")).ToString());
        Assert.StartsWith("535 5.7.8", (await client.CommandAsync("AUTH PLAIN " + Plain("alice", "wrong"))).ToString());
        Assert.StartsWith("535 5.7.8", (await client.CommandAsync("AUTH PLAIN " + Plain("mallory", Password))).ToString());
        Assert.StartsWith("235 2.7.0", (await client.CommandAsync("AUTH PLAIN " + Plain("alice", Password))).ToString());
        Assert.StartsWith("503 5.5.1", (await client.CommandAsync("AUTH PLAIN " + Plain("alice", Password))).ToString());
    }

    [Fact]
    public async Task An_authenticated_client_may_relay_and_the_message_records_the_user_and_esmtpsa()
    {
        await using var listener = await StartAsync();
        await using var client = await listener.ConnectAsync(listener.Role.SubmissionEndpoints[0]);
        var sender = QueueRows.UniqueSender("submit");
        await client.CommandAsync("EHLO c");
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        await client.CommandAsync("EHLO c");
        Assert.Equal(334, (await client.CommandAsync("AUTH LOGIN")).Code);
        Assert.Equal(334, (await client.CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes("alice")))).Code);
        Assert.StartsWith("235", (await client.CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(Password)))).ToString());
        Assert.Equal(250, (await ProtocolTests.SendMessageAsync(client, sender, "friend@elsewhere.example", "Subject: out\r\n\r\nhi")).Code);
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Equal(("alice", "encrypted"), (stored.ClientAuth, stored.Transport));
        Assert.Contains("with ESMTPSA", stored.Body);
    }

    [Fact]
    public async Task Implicit_tls_greets_inside_tls_and_accepts_authenticated_mail()
    {
        await using var listener = await StartAsync();
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(listener.Role.ImplicitTlsEndpoints[0]);
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "mx.test.example" });
        var reader = new StreamReader(ssl);
        var writer = new StreamWriter(ssl) { NewLine = "\r\n", AutoFlush = true };
        Assert.StartsWith("220 ", await reader.ReadLineAsync());
        await writer.WriteLineAsync("EHLO c");
        string? line;
        var lines = new List<string>();
        do { line = await reader.ReadLineAsync(); lines.Add(line!); } while (line is not null && line[3] == '-');
        Assert.Contains("250-AUTH PLAIN LOGIN", lines);
        Assert.DoesNotContain(lines, l => l.Contains("STARTTLS"));
        await writer.WriteLineAsync("AUTH PLAIN " + Plain("alice", Password));
        Assert.StartsWith("235", await reader.ReadLineAsync());
    }

    [Fact]
    public async Task Port_25_never_offers_auth_even_over_tls()
    {
        await using var listener = await StartAsync();
        await using var client = await listener.ConnectAsync();
        await client.CommandAsync("EHLO c");
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        Assert.DoesNotContain((await client.CommandAsync("EHLO c")).Lines, l => l.StartsWith("AUTH", StringComparison.Ordinal));
        Assert.StartsWith("502 5.5.1", (await client.CommandAsync("AUTH PLAIN " + Plain("alice", Password))).ToString());
    }
}
