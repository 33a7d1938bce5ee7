using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Relay.Db;
using Relay.TestKit.Postgres;
using Relay.Web;

namespace Relay.Web.Tests;

/// <summary>A migrated database with data recorded exactly as delivery and the listener record it, and the
/// web role running on real Kestrel at 127.0.0.1:0.</summary>
public class WebFixture : IAsyncLifetime
{
    public const string User = "admin";
    public const string Password = "correct horse battery staple";
    // Fewer iterations than production so each login costs milliseconds; the format is the same.
    public static readonly string PasswordHash = PasswordHasher.Hash(Password, 10_000);

    private readonly DatabaseFixture database = new();
    private readonly List<WebApplication> apps = [];

    public RelayDatabase Db => database.Database;
    public string ConnectionString => database.ConnectionString;
    public Uri BaseUrl { get; private set; } = null!;
    public TestData Data { get; private set; } = null!;

    /// <summary>Whether the fixture starts a web role of its own (which makes the database's first Data Protection key).</summary>
    protected virtual bool StartsRole => true;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        Data = await TestData.SeedAsync(Db);
        if (StartsRole) BaseUrl = await StartAsync(Options());
    }

    public static WebOptions Options(int lockoutThreshold = 5) => new(["127.0.0.1:0"], User, PasswordHash, LockoutThreshold: lockoutThreshold);

    /// <summary>Starts another web role on the same database (e.g. with other options) and returns its URL.</summary>
    public async Task<Uri> StartAsync(WebOptions options)
    {
        var app = WebHost.Build(options, Db);
        await app.StartAsync();
        lock (apps) apps.Add(app);
        return new Uri(WebHost.BoundUrls(app).Single());
    }

    /// <summary>Stops and disposes the web role at <paramref name="url"/>, as a restart or a crash of that process would end it.</summary>
    public async Task StopAsync(Uri url)
    {
        WebApplication app;
        lock (apps) app = apps.Single(a => new Uri(WebHost.BoundUrls(a).Single()) == url);
        await app.StopAsync();
        await app.DisposeAsync();
        lock (apps) apps.Remove(app);
    }

    public async Task DisposeAsync()
    {
        foreach (var app in apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        await database.DisposeAsync();
    }

    public static HttpClient Client(Uri baseUrl, CookieContainer? cookies = null, HttpMessageHandler? handler = null) =>
        new(handler ?? new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), AllowAutoRedirect = false })
        { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A client whose connections come from one loopback source address (a different "attacker"): the login throttle counts per address in the database the fixture's roles share.</summary>
    public static HttpClient ClientFrom(Uri baseUrl, IPAddress source) => Client(baseUrl, handler: new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        CookieContainer = new CookieContainer(),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
    });

    /// <summary>The anti-forgery field of the first form on a page.</summary>
    public static string FormToken(string html) =>
        Regex.Match(html, "name=\"" + WebHost.AntiforgeryFieldName + "\" value=\"([^\"]+)\"") is { Success: true } m
            ? WebUtility.HtmlDecode(m.Groups[1].Value)
            : throw new InvalidOperationException("no anti-forgery field on the page");

    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, params (string Key, string Value)[] fields) =>
        await client.PostAsync(path, new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))));

    /// <summary>Logs in through the real form and returns the response to the POST.</summary>
    public static async Task<HttpResponseMessage> LoginAsync(HttpClient client, string user = User, string password = Password)
    {
        var form = await client.GetStringAsync("/login");
        return await PostFormAsync(client, "/login", (WebHost.AntiforgeryFieldName, FormToken(form)), ("user", user), ("password", password),
            ("returnUrl", "/"));
    }

    public async Task<HttpClient> LoggedInClientAsync(Uri? baseUrl = null)
    {
        var client = Client(baseUrl ?? BaseUrl);
        var response = await LoginAsync(client);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }
}

/// <summary>A migrated, seeded database on which no web role has run yet: the test's first role makes the key ring.</summary>
public sealed class FreshKeyRingFixture : WebFixture
{
    protected override bool StartsRole => false;
}
