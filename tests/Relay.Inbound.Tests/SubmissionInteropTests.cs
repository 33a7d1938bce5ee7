using System.Net;
using Relay.Db;
using Relay.TestKit;
using Relay.TestKit.Postgres;

namespace Relay.Inbound.Tests;

/// <summary>Real clients on the submission listeners: swaks (587, STARTTLS + AUTH LOGIN) and smtplib (465, AUTH PLAIN).</summary>
public class SubmissionInteropTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Swaks_submits_with_auth_login_on_587_and_python_with_auth_plain_on_465()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o =>
        {
            o.Submission = [new IPEndPoint(IPAddress.Loopback, 0)];
            o.ImplicitTls = [new IPEndPoint(IPAddress.Loopback, 0)];
            o.Credentials = new Dictionary<string, string> { ["alice"] = PasswordHasher.Hash("s3cret pass", PasswordHasher.MinimumIterations) };
        });
        var viaSwaks = QueueRows.UniqueSender("swaks-auth");
        await Processes.RunAsync("swaks", ["--server", "127.0.0.1", "--port", listener.Role.SubmissionEndpoints[0].Port.ToString(), "--tls",
            "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "s3cret pass", "--from", viaSwaks, "--to", "friend@elsewhere.example"], Timeout);
        var viaPython = QueueRows.UniqueSender("python-465");
        var script = string.Join("\n",
            "import smtplib, ssl",
            "ctx = ssl.create_default_context()",
            "ctx.check_hostname = False",
            "ctx.verify_mode = ssl.CERT_NONE",
            $"with smtplib.SMTP_SSL('127.0.0.1', {listener.Role.ImplicitTlsEndpoints[0].Port}, context=ctx, timeout=30) as s:",
            "    s.login('alice', 's3cret pass')",
            $"    s.sendmail('{viaPython}', ['friend@elsewhere.example'], b'Subject: 465\\r\\n\\r\\nhi\\r\\n')",
            "print('ok')");
        var path = Path.Combine(Path.GetTempPath(), $"relay-smtplib-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(path, script);
        try { Assert.Contains("ok", await Processes.RunAsync("python3", [path], Timeout)); }
        finally { File.Delete(path); }
        foreach (var sender in new[] { viaSwaks, viaPython })
        {
            var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
            Assert.Equal(("alice", "encrypted", "friend@elsewhere.example"), (stored.ClientAuth, stored.Transport, stored.Recipients.Single().Address));
        }
    }
}
