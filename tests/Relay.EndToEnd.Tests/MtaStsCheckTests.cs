using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Relay.TestKit;
using Relay.TestKit.Dns;
using Relay.TestKit.Smtp.Peers;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// The relay executable's MTA-STS path end to end: `relay check --no-connect` reads `_mta-sts` from the DNS world, fetches
/// the policy from a Kestrel HTTPS server on loopback (Relay:MtaSts:Port) whose CA it knows only from Relay:Tls:TrustAnchors,
/// and plans with it. The MX addresses are documentation addresses, so nothing connects to them.
/// </summary>
public sealed class MtaStsCheckTests : IAsyncLifetime
{
    private const string Zone = "stse2e.test";
    private readonly X509Certificate2 authority = PeerCertificates.Authority("MTA-STS E2E CA");
    private readonly IPAddress address = LoopbackAddress.Random();
    private int port;
    private string anchors = "";
    private DnsWorld? world;
    private WebApplication? server;

    public async Task InitializeAsync()
    {
        port = Processes.FreeTcpPort(address);
        var leaf = PeerCertificates.IssuedBy(authority, $"mta-sts.{Zone}");
        var usable = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pfx), null);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port, l => l.UseHttps(usable)));
        server = builder.Build();
        server.MapGet("/.well-known/mta-sts.txt", (HttpContext c) =>
        {
            c.Response.ContentType = "text/plain";
            return c.Response.WriteAsync($"version: STSv1\nmode: enforce\nmx: mx.{Zone}\nmax_age: 86400\n");
        });
        await server.StartAsync();
        anchors = Path.Combine(Directory.CreateTempSubdirectory("relay-sts-e2e-").FullName, "anchors.pem");
        await File.WriteAllTextAsync(anchors, authority.ExportCertificatePem());

        var b = StandardDnsWorld.Describe();
        b.Zone(Zone + ".", signed: false).Add("@ MX 10 mx", "@ MX 20 rogue", "mx A 192.0.2.90", "rogue A 192.0.2.91",
            "_mta-sts TXT \"v=STSv1; id=e2e1;\"", $"mta-sts A {address}");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        world = await b.StartAsync(cts.Token);
    }

    public async Task DisposeAsync()
    {
        if (server is not null) await server.DisposeAsync();
        if (world is not null) await world.DisposeAsync();
    }

    private Dictionary<string, string> Env(bool withAnchors)
    {
        var env = new Dictionary<string, string>
        {
            ["Relay__Dns__Servers__0"] = world!.Resolver.ToString(),
            ["Relay__MtaSts__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (withAnchors) env["Relay__Tls__TrustAnchors"] = anchors;
        return env;
    }

    [Fact]
    public async Task Check_shows_the_enforced_policy_and_plans_only_the_listed_mx_with_verified_expected()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(Env(withAnchors: true), "check", Zone, "--no-connect", "--json");

        Assert.True(code == 0, stderr + stdout);
        using var json = JsonDocument.Parse(stdout);
        var sts = json.RootElement.GetProperty("mtaSts");
        Assert.Equal(("e2e1", "enforce"), (sts.GetProperty("policyId").GetString(), sts.GetProperty("mode").GetString()));
        var peers = json.RootElement.GetProperty("peers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal("verified", peers[$"mx.{Zone}"].GetProperty("expected").GetString());
        Assert.Equal("skipped", peers[$"rogue.{Zone}"].GetProperty("expected").GetString());
    }

    [Fact]
    public async Task Without_the_trust_anchors_the_fetch_is_sts_webpki_invalid_and_no_policy_applies()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(Env(withAnchors: false), "check", Zone, "--no-connect", "--json");

        Assert.True(code == 0, stderr + stdout);
        using var json = JsonDocument.Parse(stdout);
        var sts = json.RootElement.GetProperty("mtaSts");
        Assert.Equal(JsonValueKind.Null, sts.GetProperty("mode").ValueKind);
        Assert.Equal("sts-webpki-invalid", sts.GetProperty("fetchFailure").GetProperty("resultType").GetString());
        Assert.All(json.RootElement.GetProperty("peers").EnumerateArray(), p => Assert.NotEqual("skipped", p.GetProperty("expected").GetString()));
    }
}
