using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Relay.Dns;
using Relay.TestKit;
using Relay.TestKit.Dns;

namespace Relay.Policy.Tests.MtaSts;

/// <summary>
/// MTA-STS's two halves for real: an unsigned zone in nsd + unbound with the `_mta-sts` TXT records and the
/// `mta-sts.*` addresses, and a Kestrel HTTPS server on one 127.x.y.z address whose certificates come from a CA
/// made here (given to Relay as its trust anchors). The server answers by Host: each label is one behaviour.
/// </summary>
public sealed class StsWorldFixture : IAsyncLifetime
{
    public const string Zone = "sts.example";

    /// <summary>Policy-host label → what the HTTPS server does for it.</summary>
    public static readonly string[] Behaviours = ["good", "testing", "none", "redirect", "big", "invalid", "html", "slow", "notfound", "wrongname", "selfsigned", "changing"];

    public static string Domain(string label) => $"{label}.{Zone}";

    public const string GoodPolicy = "version: STSv1\r\nmode: enforce\r\nmx: mx.good.sts.example\r\nmx: *.backup.sts.example\r\nmax_age: 86400\r\n";

    public X509Certificate2 Authority { get; } = TestPki.Root("STS Test CA");
    public X509Certificate2Collection TrustAnchors => [Authority];
    public IPAddress Address { get; } = LoopbackAddress.Random();
    public int Port { get; private set; }
    public DnsResolver Resolver { get; private set; } = null!;

    /// <summary>What the "changing" host serves; tests change it to model a domain publishing a new policy.</summary>
    public string ChangingPolicy { get; set; } = GoodPolicy;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> requests = new();

    /// <summary>How many policy requests the server has answered for a label.</summary>
    public int Requests(string label) => requests.GetValueOrDefault(label);

    private DnsWorld? world;
    private WebApplication? server;
    public DnsWorld World => world ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        Port = Processes.FreeTcpPort(Address);
        var good = TestPki.Leaf(Authority, Behaviours.Where(b => b is not "wrongname").Select(b => $"mta-sts.{Domain(b)}").ToArray());
        var wrongName = TestPki.Leaf(Authority, [$"www.{Domain("wrongname")}"]);
        var selfSigned = TestPki.Leaf(null, [$"mta-sts.{Domain("selfsigned")}"]);
        // Kestrel needs keys it can use in SslStream: round-trip through PFX so the private key is a persisted one.
        X509Certificate2 Usable(X509Certificate2 c) => X509CertificateLoader.LoadPkcs12(c.Export(X509ContentType.Pfx), null);
        var (goodUsable, wrongUsable, selfUsable) = (Usable(good), Usable(wrongName), Usable(selfSigned));

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(Address, Port, l => l.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, sni) => sni switch
            {
                _ when sni == $"mta-sts.{Domain("wrongname")}" => wrongUsable,
                _ when sni == $"mta-sts.{Domain("selfsigned")}" => selfUsable,
                _ => goodUsable,
            },
        })));
        server = builder.Build();
        server.MapGet("/.well-known/mta-sts.txt", Serve);
        await server.StartAsync();

        var b = StandardDnsWorld.Describe();
        var zone = b.Zone(Zone + ".", signed: false);
        foreach (var label in Behaviours)
            zone.Add($"_mta-sts.{label} TXT \"v=STSv1; id=id{label}1;\"", $"mta-sts.{label} A {Address}");
        // MX hosts for the planning test: one the good policy lists, one it does not.
        zone.Add("good MX 10 mx.good", "good MX 20 rogue", "mx.good A 192.0.2.80", "rogue A 192.0.2.81");
        zone.Add("_mta-sts.absent TXT \"v=spf1 -all\"",
            "_mta-sts.twice TXT \"v=STSv1; id=a;\"", "_mta-sts.twice TXT \"v=STSv1; id=b;\"");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        world = await b.StartAsync(cts.Token);
        Resolver = new DnsResolver([new DnsServer(World.Resolver, Trusted: true)], new DnsResolverOptions { QueryTimeout = TimeSpan.FromSeconds(3) });
    }

    private async Task Serve(HttpContext context)
    {
        var host = context.Request.Host.Host;
        var label = host.StartsWith("mta-sts.", StringComparison.Ordinal) ? host["mta-sts.".Length..].Split('.')[0] : "";
        requests.AddOrUpdate(label, 1, (_, n) => n + 1);
        var response = context.Response;
        switch (label)
        {
            case "redirect":
                response.StatusCode = 301;
                response.Headers.Location = $"https://mta-sts.{Domain("good")}/.well-known/mta-sts.txt";
                return;
            case "notfound":
                response.StatusCode = 404;
                return;
            case "slow":
                await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted).ContinueWith(_ => { });
                break;
        }
        response.ContentType = label == "html" ? "text/html" : "text/plain";
        var body = label switch
        {
            "testing" => GoodPolicy.Replace("enforce", "testing"),
            "none" => "version: STSv1\nmode: none\nmax_age: 86400\n",
            "big" => GoodPolicy + string.Concat(Enumerable.Repeat("ext: " + new string('x', 90) + "\n", 800)),
            "invalid" => "version: STSv1\nmode: enforce\nmx: mx.invalid.sts.example\n",
            "changing" => ChangingPolicy,
            _ => GoodPolicy,
        };
        await response.WriteAsync(body, context.RequestAborted);
    }

    public async Task DisposeAsync()
    {
        if (server is not null) await server.DisposeAsync();
        if (world is not null) await world.DisposeAsync();
    }
}
