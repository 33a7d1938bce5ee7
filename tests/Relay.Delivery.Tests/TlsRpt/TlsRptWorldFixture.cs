using System.Collections.Concurrent;
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
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests.TlsRpt;

/// <summary>
/// A TLS-RPT world, all real: a signed zone rpt.test in nsd + validating unbound where mixed.rpt.test has MX 10 mx-bad (a
/// TLSA record matching nothing) and MX 20 mx-good (a matching DANE-EE record), and publishes
/// `_smtp._tls` with a mailto: and an https: rua; twice.rpt.test publishes two v=TLSRPTv1 records (so it wants none).
/// Scripted SMTP peers on 127.x.y.z:25, a report mailbox peer for reports.test (a route), and a Kestrel HTTPS endpoint on a
/// 127.x.y.z address whose certificate comes from a CA made here (given to Relay as Relay:Tls:TrustAnchors would be).
/// </summary>
public sealed class TlsRptWorldFixture : IAsyncLifetime
{
    public const string Domain = "mixed.rpt.test";
    public const string Mailbox = "tlsrpt@reports.test";
    public const string HttpsHost = "rua.rpt.test";

    public X509Certificate2 Authority { get; } = PeerCertificates.Authority("TLS-RPT Test CA");
    public X509Certificate2Collection TrustAnchors => [X509CertificateLoader.LoadCertificate(Authority.RawData)];
    public IPAddress HttpsAddress { get; } = LoopbackAddress.Random();
    public int HttpsPort { get; private set; }
    public string HttpsPath => "/v1/tlsrpt";

    public ScriptedSmtpPeer Good { get; private set; } = null!;
    public ScriptedSmtpPeer Bad { get; private set; } = null!;
    public ScriptedSmtpPeer ReportMailbox { get; private set; } = null!;
    public IDnsResolver Resolver { get; private set; } = null!;

    /// <summary>Every POST the HTTPS endpoint received: its content type and body.</summary>
    public ConcurrentQueue<(string? ContentType, byte[] Body)> Posts { get; } = new();

    private DnsWorld? world;
    private WebApplication? server;

    public async Task InitializeAsync()
    {
        Good = StartOnPort25(new PeerScript { Name = "mx-good.rpt.test" });
        Bad = StartOnPort25(new PeerScript { Name = "mx-bad.rpt.test" });
        ReportMailbox = ScriptedSmtpPeer.Start(new PeerScript { Name = "mail.reports.test" }, LoopbackAddress.Random());

        HttpsPort = Processes.FreeTcpPort(HttpsAddress);
        // Kestrel needs a key it can use in SslStream: the PKCS#12 round trip of IssuedBy gives one.
        var certificate = PeerCertificates.IssuedBy(Authority, HttpsHost);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(HttpsAddress, HttpsPort, l => l.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate })));
        server = builder.Build();
        server.MapPost(HttpsPath, async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            Posts.Enqueue((context.Request.ContentType, body.ToArray()));
            context.Response.StatusCode = 201;
        });
        await server.StartAsync();

        string Spki(X509Certificate2 c) => PeerCertificates.SpkiSha256(c).ToUpperInvariant();
        var b = new DnsWorldBuilder();
        b.Zone("rpt.test", signed: true).Add(
            "mixed MX 10 mx-bad", "mixed MX 20 mx-good",
            $"mx-bad A {Bad.EndPoint.Address}", $"_25._tcp.mx-bad TLSA 3 1 1 {new string('A', 64)}",
            $"mx-good A {Good.EndPoint.Address}", $"_25._tcp.mx-good TLSA 3 1 1 {Spki(Good.Certificate)}",
            $"_smtp._tls.mixed TXT \"v=TLSRPTv1; rua=mailto:{Mailbox},https://{HttpsHost}:{HttpsPort}{HttpsPath}\"",
            $"rua A {HttpsAddress}",
            "twice MX 10 mx-good",
            $"_smtp._tls.twice TXT \"v=TLSRPTv1; rua=mailto:{Mailbox}\"", $"_smtp._tls.twice TXT \"v=TLSRPTv1; rua=mailto:other@reports.test\"");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        world = await b.StartAsync(cts.Token);
        Resolver = new DnsResolver([new DnsServer(world.Resolver, Trusted: true)]);
    }

    private static ScriptedSmtpPeer StartOnPort25(PeerScript script)
    {
        for (var attempt = 0; ; attempt++)
        {
            try { return ScriptedSmtpPeer.Start(script, LoopbackAddress.RandomFree(25), 25); }
            catch (System.Net.Sockets.SocketException) when (attempt < 5) { }
        }
    }

    public async Task DisposeAsync()
    {
        if (server is not null) await server.DisposeAsync();
        foreach (var peer in new[] { Good, Bad, ReportMailbox }.Where(p => p is not null)) await peer.DisposeAsync();
        if (world is not null) await world.DisposeAsync();
    }
}
