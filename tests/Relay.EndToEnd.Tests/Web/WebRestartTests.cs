using System.Net;
using System.Text.RegularExpressions;
using Relay.Db;
using Relay.TestKit;
using Relay.TestKit.Postgres;
using Relay.Web;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Web;

/// <summary>
/// `relay serve --roles web` keeps admin sessions and the Data Protection key ring in PostgreSQL: after the process
/// is stopped and started again, and on a second process on the same database, the session cookie still logs in and the
/// anti-forgery token of a page the first process rendered still passes; logging out on one process ends the session
/// on the others.
/// </summary>
public sealed partial class WebRestartTests(ITestOutputHelper output)
{
    private const string Password = "restart me, keep me";
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_login_and_a_form_token_survive_a_restart_and_work_on_a_second_process_until_logout()
    {
        var (code, hash, _) = await RelayProcess.RunWithInputAsync(new Dictionary<string, string>(), Password + "\n", "web", "hash-password");
        Assert.Equal(0, code);
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("e2e_web_restart");
        await using (var db = new RelayDatabase(database))
            await db.Migrator().ApplyAsync();
        Dictionary<string, string> Env(int port) => new()
        {
            ["Relay__Database"] = database,
            ["Relay__Hostname"] = "mx.restart.test",
            ["Relay__Web__Listen__0"] = $"127.0.0.1:{port}",
            ["Relay__Web__AdminUser"] = "admin",
            ["Relay__Web__AdminPasswordHash"] = hash.Trim(),
            ["Relay__Metrics__Listen"] = $"127.0.0.1:{Processes.FreeTcpPort(IPAddress.Loopback)}",
        };

        var cookies = new CookieContainer();   // per host, not per port: every process below gets the same cookies
        var firstPort = Processes.FreeTcpPort(IPAddress.Loopback);
        string token;
        await using (var first = await StartAsync(Env(firstPort)))
        {
            using var http = Client(firstPort, cookies);
            Assert.Equal(HttpStatusCode.Redirect, (await LoginAsync(http)).StatusCode);
            token = Token(await http.GetStringAsync("/policies"));
            first.Terminate();
            Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        var (againPort, otherPort) = (Processes.FreeTcpPort(IPAddress.Loopback), Processes.FreeTcpPort(IPAddress.Loopback));
        await using var again = await StartAsync(Env(againPort));
        await using var other = await StartAsync(Env(otherPort));
        using var onAgain = Client(againPort, cookies);
        using var onOther = Client(otherPort, cookies);
        var overview = await onAgain.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
        Assert.Contains("Log out", await overview.Content.ReadAsStringAsync());
        var saved = await PostAsync(onOther, "/policies", (WebHost.AntiforgeryFieldName, token), ("destination", "restart.example"), ("level", "encrypt"));
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal("/policies?done=policy-saved", saved.Headers.Location?.OriginalString);

        var logout = await PostAsync(onOther, "/logout", (WebHost.AntiforgeryFieldName, Token(await onOther.GetStringAsync("/"))));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        var afterLogout = await onAgain.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, afterLogout.StatusCode);
        Assert.StartsWith("/login", afterLogout.Headers.Location?.OriginalString);
    }

    private async Task<RelayProcess> StartAsync(Dictionary<string, string> env)
    {
        var relay = RelayProcess.Start(env, "serve", "--roles", "web");
        try
        {
            await relay.WaitForOutputAsync("role web started", Startup);
        }
        catch
        {
            output.WriteLine(relay.Output);
            await relay.DisposeAsync();
            throw;
        }
        return relay;
    }

    private static HttpClient Client(int port, CookieContainer cookies) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<HttpResponseMessage> LoginAsync(HttpClient http) =>
        await PostAsync(http, "/login", (WebHost.AntiforgeryFieldName, Token(await http.GetStringAsync("/login"))), ("user", "admin"), ("password", Password),
            ("returnUrl", "/"));

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string path, params (string Key, string Value)[] fields) =>
        await http.PostAsync(path, new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))));

    private static string Token(string html) =>
        CsrfField().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : throw new InvalidOperationException("no anti-forgery field");

    [GeneratedRegex("name=\"" + WebHost.AntiforgeryFieldName + "\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}
