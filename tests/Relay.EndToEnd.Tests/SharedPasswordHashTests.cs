using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Relay.Db;
using Relay.TestKit;
using Relay.TestKit.Postgres;
using Relay.TestKit.Smtp;
using Relay.Web;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// The admin login and SMTP AUTH check passwords with one hasher, so the hash `relay web hash-password`
/// prints once is accepted by both doors of one running relay (issue 10: before, a hash could pass one and fail the other).
/// </summary>
public partial class SharedPasswordHashTests
{
    private const string Password = "one password, two doors";
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task One_hash_from_hash_password_opens_the_admin_login_and_smtp_auth()
    {
        var (code, stdout, _) = await RelayProcess.RunWithInputAsync(new Dictionary<string, string>(), Password + "\n", "web", "hash-password");
        Assert.Equal(0, code);
        var hash = stdout.Trim();

        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("e2e_one_hash");
        await using (var db = new RelayDatabase(database))
            await db.Migrator().ApplyAsync();
        var (submission, web) = (Processes.FreeTcpPort(IPAddress.Loopback), Processes.FreeTcpPort(IPAddress.Loopback));
        await using var relay = RelayProcess.Start(new Dictionary<string, string>
        {
            ["Relay__Database"] = database,
            ["Relay__Hostname"] = "mx.onehash.test",
            ["Relay__Smtp__Submission__0"] = $"127.0.0.1:{submission}",
            ["Relay__Smtp__Credentials__alice"] = hash,
            ["Relay__Web__Listen__0"] = $"127.0.0.1:{web}",
            ["Relay__Web__AdminUser"] = "admin",
            ["Relay__Web__AdminPasswordHash"] = hash,
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-onehash-").FullName,
        }, "serve", "--roles", "smtp,web");
        await relay.WaitForOutputAsync("role smtp started", Startup);
        await relay.WaitForOutputAsync("role web started", Startup);

        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{web}") };
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(http, "not the password")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await LoginAsync(http, Password)).StatusCode);

        await using var smtp = await RawSmtpClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, submission));
        Assert.Equal(220, (await smtp.ReadReplyAsync()).Code);
        await smtp.CommandAsync("EHLO client.onehash.test");
        Assert.Equal(220, (await smtp.CommandAsync("STARTTLS")).Code);
        await smtp.StartTlsAsync();
        await smtp.CommandAsync("EHLO client.onehash.test");
        Assert.StartsWith("535 ", (await smtp.CommandAsync("AUTH PLAIN " + Plain("alice", "not the password"))).ToString());
        Assert.StartsWith("235 ", (await smtp.CommandAsync("AUTH PLAIN " + Plain("alice", Password))).ToString());
    }

    [Fact]
    public async Task A_malformed_submission_hash_stops_start_up_naming_the_user_and_not_the_hash()
    {
        const string unusable = "pbkdf2-sha256$10$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==";
        var (code, _, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string>
        {
            ["Relay__Database"] = "Host=127.0.0.1;Port=1",
            // An smtp role needs an endpoint (else that is the error); port 0 is never bound: the hash stops start-up first.
            ["Relay__Smtp__Submission__0"] = "127.0.0.1:0",
            ["Relay__Smtp__Credentials__alice"] = unusable,
        }, "serve", "--roles", "smtp");
        Assert.Equal(2, code);
        Assert.Contains("Relay:Smtp:Credentials:alice", stderr);
        Assert.Contains("iteration", stderr);
        Assert.DoesNotContain(unusable, stderr);
    }

    // The real form: GET /login sets the anti-forgery cookie and field, the POST sends them back.
    private static async Task<HttpResponseMessage> LoginAsync(HttpClient http, string password)
    {
        var token = CsrfField().Match(await http.GetStringAsync("/login"));
        Assert.True(token.Success, "no anti-forgery field on /login");
        return await http.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [WebHost.AntiforgeryFieldName] = WebUtility.HtmlDecode(token.Groups[1].Value),
            ["user"] = "admin",
            ["password"] = password,
            ["returnUrl"] = "/",
        }));
    }

    private static string Plain(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    [GeneratedRegex("name=\"" + WebHost.AntiforgeryFieldName + "\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}
