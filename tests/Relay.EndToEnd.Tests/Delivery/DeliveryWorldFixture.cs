using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Relay.TestKit;
using Relay.TestKit.Dns;
using Relay.TestKit.Smtp.Peers;

namespace Relay.EndToEnd.Tests.Delivery;

[CollectionDefinition(Name)]
public sealed class DeliveryCollection : ICollectionFixture<DeliveryWorldFixture>
{
    /// <summary>One collection: the scenarios share peers and run one after another, which also keeps 2 cores calm.</summary>
    public const string Name = "delivery-e2e";
}

/// <summary>
/// The world every DNS-driven delivery scenario runs in, started once:
/// <list type="bullet">
/// <item>a real Postfix (<see cref="PostfixPeer"/>) with one smtpd per MX host on 127.x.y.z:25, sharing one certificate
/// issued by a CA made here (the CA goes in the chain, for DANE-TA), plus two listeners without STARTTLS;</item>
/// <item>a second Postfix with a self-signed certificate;</item>
/// <item>a bare TCP listener for an MX that must never be contacted (it counts connections);</item>
/// <item>nsd + validating unbound serving e2edane.test (signed), e2eplain.test (unsigned), e2ebroken.test (signed, MX signature corrupt);</item>
/// <item>a migrated database and one `relay serve --roles delivery,web` process pointed at that resolver, its admin UI
/// and JSON API on a loopback port (<see cref="WebAsync"/> logs in).</item>
/// </list>
/// </summary>
public sealed class DeliveryWorldFixture : IAsyncLifetime
{
    public const string Signed = "e2edane.test";
    public const string Plain = "e2eplain.test";
    public const string Broken = "e2ebroken.test";
    /// <summary>The senders' domain, routed to the <see cref="Sink"/> listener so DSNs can be watched arriving.</summary>
    public const string SenderDomain = "sender.e2e.test";

    private static readonly string[] TlsHosts = ["ee", "ta", "mm", "ok", "un", "tr"];

    private TcpListener? untouchable;
    private Task? untouchableLoop;
    private int untouchableConnections;

    public X509Certificate2 Authority { get; } = PeerCertificates.Authority("Relay E2E Test CA");
    public X509Certificate2 Leaf { get; private set; } = null!;
    public X509Certificate2 SelfSigned { get; } = PeerCertificates.SelfSigned($"mx-ss.{Plain}");
    public PostfixPeer Postfix { get; private set; } = null!;
    public PostfixPeer SelfSignedPostfix { get; private set; } = null!;
    public DnsWorld World { get; private set; } = null!;
    public DeliveryQueue Queue { get; private set; } = null!;
    public RelayProcess Relay { get; private set; } = null!;

    private const string AdminPassword = "e2e admin password";
    private readonly int webPort = Processes.FreeTcpPort(IPAddress.Loopback);

    /// <summary>MX host label → its Postfix listener.</summary>
    public Dictionary<string, PostfixListener> Listeners { get; } = new();

    /// <summary>MX host label → the TLSA rdata published at _25._tcp.mx-&lt;label&gt;.</summary>
    public Dictionary<string, string[]> Tlsa { get; } = new();

    /// <summary>A Postfix listener without STARTTLS that only the routes use (DSNs, bulk delivery).</summary>
    public PostfixListener Sink => Listeners["sink"];

    public int UntouchableConnections => Volatile.Read(ref untouchableConnections);

    public static string LeafName => $"mx-ta.{Signed}";

    public async Task InitializeAsync()
    {
        Leaf = PeerCertificates.IssuedBy(Authority, LeafName);
        Postfix = await PostfixPeer.StartAsync(Leaf, [.. TlsHosts.Select(_ => true), false, false]);
        for (var i = 0; i < TlsHosts.Length; i++) Listeners[TlsHosts[i]] = Postfix.Listeners[i];
        Listeners["st"] = Postfix.Listeners[TlsHosts.Length];
        Listeners["sink"] = Postfix.Listeners[TlsHosts.Length + 1];
        await SendAuthorityInChainAsync(Postfix);
        SelfSignedPostfix = await PostfixPeer.StartAsync(SelfSigned, true);
        Listeners["ss"] = SelfSignedPostfix.Listeners[0];
        StartUntouchable();

        string A(string host) => Listeners[host].Address.ToString();
        var spki = PeerCertificates.SpkiSha256(Leaf);
        var authorityDigest = Convert.ToHexStringLower(SHA256.HashData(Authority.RawData));
        Tlsa["ee"] = [$"3 1 1 {spki}"];
        Tlsa["ta"] = [$"2 0 1 {authorityDigest}"];
        Tlsa["mm"] = [$"3 1 1 {Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))}"];
        Tlsa["st"] = [$"3 1 1 {spki}"];
        Tlsa["sf"] = [$"3 1 1 {spki}"];
        Tlsa["ok"] = [$"3 1 1 {spki}"];
        // Usages 0 and 1 (PKIX-TA, PKIX-EE) are unusable for SMTP (RFC 7672 §3.1.3) even though they match.
        Tlsa["un"] = [$"1 1 1 {spki}", $"0 0 1 {authorityDigest}"];
        Tlsa["tr"] = [$"3 1 1 {spki}"];
        var b = new DnsWorldBuilder();
        b.Zone(Signed, signed: true).Add(
                "ee MX 10 mx-ee", $"mx-ee A {A("ee")}",
                "ta MX 10 mx-ta", $"mx-ta A {A("ta")}",
                "mismatch MX 10 mx-mm", $"mx-mm A {A("mm")}",
                "stripped MX 10 mx-st", $"mx-st A {A("st")}",
                "servfail MX 10 mx-sf", "servfail MX 20 mx-ok", $"mx-sf A {((IPEndPoint)untouchable!.LocalEndpoint).Address}", $"mx-ok A {A("ok")}",
                "unusable MX 10 mx-un", $"mx-un A {A("un")}",
                // The DANE-TA host's name, under a destination the PKIX tests give `verify`: what decides there is Relay:Tls:TrustAnchors.
                "pkix MX 10 mx-ta",
                $"mx-tr A {A("tr")}")
            .Add([.. Tlsa.SelectMany(t => t.Value.Select(r => $"_25._tcp.mx-{t.Key} TLSA {r}"))])
            .CorruptSignature("_25._tcp.mx-sf", "TLSA");
        b.Zone(Plain, signed: false).Add(
            $"trusted MX 10 mx-tr.{Signed}.",
            "selfsigned MX 10 mx-ss", $"mx-ss A {A("ss")}",
            "nullmx MX 0 .",
            // Two destinations on one STARTTLS-less Postfix listener: one left to opportunism, one given `encrypt` by the operator.
            "open MX 10 mx-np", "strict MX 10 mx-np", $"mx-np A {A("st")}");
        b.Zone(Broken, signed: true).Add("@ MX 10 mx", $"mx A {A("ok")}").CorruptSignature("@", "MX");
        World = await b.StartAsync();

        TrustAnchorsFile = Path.Combine(Directory.CreateTempSubdirectory("relay-e2e-anchors-").FullName, "anchors.pem");
        await File.WriteAllTextAsync(TrustAnchorsFile, Authority.ExportCertificatePem() + "\n");
        Queue = await DeliveryQueue.CreateAsync("e2e_dlv");
        Relay = RelayProcess.Start(Environment(), "serve", "--roles", "delivery,web");
        await Relay.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));
        await Relay.WaitForOutputAsync("role web started", TimeSpan.FromSeconds(30));
    }

    /// <summary>A PEM file holding <see cref="Authority"/>: the delivery process's Relay:Tls:TrustAnchors.</summary>
    public string TrustAnchorsFile { get; private set; } = null!;

    private Dictionary<string, string> Environment() => new()
    {
        ["Relay__Tls__TrustAnchors"] = TrustAnchorsFile,
        ["Relay__Database"] = Queue.ConnectionString,
        ["Relay__Hostname"] = "relay.e2e.test",
        ["Relay__Dns__Servers__0"] = World.Resolver.ToString(),
        ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-e2e-dlv-").FullName,
        [$"Relay__Routes__{SenderDomain}"] = Sink.Route,
        ["Relay__Web__Listen__0"] = $"127.0.0.1:{webPort}",
        ["Relay__Web__AdminUser"] = "admin",
        ["Relay__Web__AdminPasswordHash"] = global::Relay.Db.PasswordHasher.Hash(AdminPassword, global::Relay.Db.PasswordHasher.MinimumIterations),
    };

    /// <summary>An HTTP client of the relay's web UI, logged in as the admin through the real form.</summary>
    public async Task<HttpClient> WebAsync()
    {
        var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{webPort}") };
        var form = await http.GetStringAsync("/login");
        var token = System.Text.RegularExpressions.Regex.Match(form, "name=\"" + global::Relay.Web.WebHost.AntiforgeryFieldName + "\" value=\"([^\"]+)\"");
        Assert.True(token.Success, "no anti-forgery field on /login");
        var login = await http.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [global::Relay.Web.WebHost.AntiforgeryFieldName] = WebUtility.HtmlDecode(token.Groups[1].Value),
            ["user"] = "admin",
            ["password"] = AdminPassword,
            ["returnUrl"] = "/",
        }));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        return http;
    }

    /// <summary>
    /// DANE-TA with a digest (2 0 1) needs the trust anchor in the server's chain. PostfixPeer writes the leaf alone,
    /// so the CA is appended to the chain file it configured and Postfix reloaded (its smtpd processes read the file at start).
    /// </summary>
    private async Task SendAuthorityInChainAsync(PostfixPeer peer)
    {
        await File.AppendAllTextAsync(Path.Combine(peer.Directory, "cert.pem"), "\n" + Authority.ExportCertificatePem() + "\n");
        await Processes.RunAsync("/usr/sbin/postfix", ["-c", peer.Directory, "reload"], TimeSpan.FromSeconds(30));
    }

    private void StartUntouchable()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                untouchable = new TcpListener(LoopbackAddress.RandomFree(25), 25);
                untouchable.Start();
                break;
            }
            catch (SocketException) when (attempt < 5) { }
        }
        untouchableLoop = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    using var socket = await untouchable.AcceptSocketAsync();
                    Interlocked.Increment(ref untouchableConnections);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
            }
        });
    }

    /// <summary>Waits for the Postfix log line that says <paramref name="recipient"/> was accepted and passed on ("status=sent").</summary>
    public Task<string> WaitForArrivalAsync(PostfixPeer peer, string recipient) =>
        peer.WaitForLogLineAsync(TimeSpan.FromSeconds(20), $"to=<{recipient}>", "status=sent");

    /// <summary>Lets the peer's log catch up, then says whether <paramref name="recipient"/> appears in it at all.</summary>
    public async Task<bool> EverSeenAsync(PostfixPeer peer, string recipient)
    {
        await Task.Delay(TimeSpan.FromSeconds(1));
        return peer.Log().Contains($"<{recipient}>", StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        if (Relay is not null) await Relay.DisposeAsync();
        untouchable?.Stop();
        if (untouchableLoop is not null) await untouchableLoop.WaitAsync(TimeSpan.FromSeconds(5));
        if (World is not null) await World.DisposeAsync();
        if (Postfix is not null) await Postfix.DisposeAsync();
        if (SelfSignedPostfix is not null) await SelfSignedPostfix.DisposeAsync();
        if (Queue is not null) await Queue.DisposeAsync();
    }
}
