using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Relay.EndToEnd.Tests.Delivery;
using Relay.TestKit;
using Relay.TestKit.Dns;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Operations;

/// <summary>
/// Our own DANE record in a signed DNS world (real nsd + validating unbound): the record `relay tlsa` prints for
/// certificate A is published at the owner name it prints; `relay tlsa --check` passes with A and fails (exit 1) once
/// the certificate changes to B with a new key, and `relay serve --roles smtp` with B warns in its log, in
/// relay_smtp_own_tlsa, in /readyz's detail and, through the database, on the web role's overview page.
/// </summary>
public sealed class OwnTlsaTests(ITestOutputHelper output)
{
    private const string Hostname = "mx.owntlsa.e2e.test";

    [Fact]
    public async Task The_check_passes_for_the_published_certificate_and_fires_when_the_certificate_changes()
    {
        var directory = Directory.CreateTempSubdirectory("relay-e2e-owntlsa-").FullName;
        var (certA, keyA) = WriteCertificate(directory, "a");
        var (certB, keyB) = WriteCertificate(directory, "b");
        var env = new Dictionary<string, string> { ["Relay__Hostname"] = Hostname, ["Relay__DataDirectory"] = directory };

        var printed = await RelayProcess.RunAsync(env, "tlsa", "--cert", certA, "--json");
        Assert.True(printed.ExitCode == 0, printed.Stderr);
        var record = JsonDocument.Parse(printed.Stdout).RootElement;
        Assert.Equal("_25._tcp." + Hostname, record.GetProperty("owner").GetString());
        var line = record.GetProperty("record").GetString()!;
        Assert.StartsWith($"_25._tcp.{Hostname}. IN TLSA 3 1 1 ", line);

        var builder = new DnsWorldBuilder();
        builder.Zone("owntlsa.e2e.test", signed: true).Add($"mx A 127.0.0.1", line.Replace(" IN TLSA ", " TLSA "));
        await using var world = await builder.StartAsync();
        var withA = new Dictionary<string, string>(env)
        {
            ["Relay__Dns__Servers__0"] = world.Resolver.ToString(), ["Relay__Tls__Certificate"] = certA, ["Relay__Tls__Key"] = keyA,
        };
        var withB = new Dictionary<string, string>(withA) { ["Relay__Tls__Certificate"] = certB, ["Relay__Tls__Key"] = keyB };

        var good = await RelayProcess.RunAsync(withA, "tlsa", "--check");
        Assert.True(good.ExitCode == 0, good.Stdout + good.Stderr + world.ResolverLog);
        Assert.Contains(": matches:", good.Stdout);

        var bad = await RelayProcess.RunAsync(withB, "tlsa", "--check", "--json");
        Assert.True(bad.ExitCode == 1, $"exit {bad.ExitCode}: {bad.Stdout}{bad.Stderr}");
        Assert.Equal("mismatch", JsonDocument.Parse(bad.Stdout).RootElement.GetProperty("verdict").GetString());

        await using var queue = await DeliveryQueue.CreateAsync("e2e_ops_owntlsa");
        var (metricsPort, webPort) = (Processes.FreeTcpPort(IPAddress.Loopback), Processes.FreeTcpPort(IPAddress.Loopback));
        const string password = "own tlsa overview";
        var serveEnv = new Dictionary<string, string>(withB)
        {
            ["Relay__Database"] = queue.ConnectionString,
            ["Relay__Smtp__Listen__0"] = $"127.0.0.1:{Processes.FreeTcpPort(IPAddress.Loopback)}",
            ["Relay__Metrics__Listen"] = $"127.0.0.1:{metricsPort}",
            ["Relay__Web__Listen__0"] = $"127.0.0.1:{webPort}",
            ["Relay__Web__AdminUser"] = "admin",
            ["Relay__Web__AdminPasswordHash"] = Relay.Db.PasswordHasher.Hash(password),
        };
        await using var relay = RelayProcess.Start(serveEnv, "serve", "--roles", "smtp,web");
        try
        {
            await relay.WaitForOutputAsync("own TLSA record", TimeSpan.FromSeconds(30));
            Assert.Contains($"own TLSA record _25._tcp.{Hostname}: mismatch", relay.Output);
            using var endpoint = new OperationsEndpoint(metricsPort);
            var samples = await endpoint.ScrapeAsync();
            Assert.Equal(1, samples.Sum("relay_smtp_own_tlsa", ("verdict", "mismatch")));
            Assert.Equal(0, samples.Sum("relay_smtp_own_tlsa", ("verdict", "matches")));
            var ready = await endpoint.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.Status);   // a warning, not an outage
            var warning = JsonDocument.Parse(ready.Body).RootElement.GetProperty("warnings").GetProperty("own-tlsa").GetString();
            Assert.Contains("mismatch", warning);

            await relay.WaitForOutputAsync("role web started", TimeSpan.FromSeconds(30));
            // The monitor logs first and records for the web role right after: a few bounded looks.
            var overview = await OverviewAsync(webPort, password);
            for (var look = 0; look < 10 && !overview.Contains("own-tlsa-warning", StringComparison.Ordinal); look++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                overview = await OverviewAsync(webPort, password);
            }
            Assert.Contains("id=\"own-tlsa-warning\"", overview);
            Assert.Contains($"Our own DANE record: mismatch.", overview);
            Assert.Contains($"_25._tcp.{Hostname}", overview);
        }
        finally
        {
            output.WriteLine(relay.Output);
        }
    }

    /// <summary>Logs in through the real form and returns the overview page's HTML.</summary>
    private static async Task<string> OverviewAsync(int webPort, string password)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{webPort}") };
        var login = await http.GetStringAsync("/login");
        var token = System.Text.RegularExpressions.Regex.Match(login, "name=\"" + Relay.Web.WebHost.AntiforgeryFieldName + "\" value=\"([^\"]+)\"");
        Assert.True(token.Success, login);
        var posted = await http.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [Relay.Web.WebHost.AntiforgeryFieldName] = WebUtility.HtmlDecode(token.Groups[1].Value), ["user"] = "admin", ["password"] = password, ["returnUrl"] = "/",
        }));
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        return await http.GetStringAsync("/");
    }

    /// <summary>A self-signed certificate for <see cref="Hostname"/> with a fresh key: a rotation that changes the key.</summary>
    private static (string Certificate, string Key) WriteCertificate(string directory, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Hostname}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(Hostname);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var (certPath, keyPath) = (Path.Combine(directory, name + ".crt"), Path.Combine(directory, name + ".key"));
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }
}
