using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Relay.EndToEnd.Tests.Delivery;
using Relay.TestKit.Dns;
using Relay.TestKit.Smtp;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Operations;

/// <summary>
/// The record `relay tlsa` prints, published in a signed DNS world, is what a real DANE sender verifies us with: a
/// private Postfix at smtp_tls_security_level = dane, resolving through that world's validating unbound, relays into
/// `relay serve --roles smtp` and logs its session as Verified; our start-up check agrees (matches).
/// </summary>
public sealed class OwnTlsaPostfixTests(ITestOutputHelper output)
{
    private const string Zone = "danein.e2e.test";
    private const string Hostname = "mx." + Zone;

    [Fact]
    public async Task A_postfix_dane_sender_verifies_us_with_the_record_relay_tlsa_printed()
    {
        Assert.True(PostfixInstance.Available, "needs root and Debian's postfix");
        var directory = Directory.CreateTempSubdirectory("relay-e2e-danein-").FullName;
        var (certificate, key) = WriteCertificate(directory);
        var env = new Dictionary<string, string> { ["Relay__Hostname"] = Hostname, ["Relay__DataDirectory"] = directory };
        var printed = await RelayProcess.RunAsync(env, "tlsa", "--cert", certificate, "--json");
        Assert.True(printed.ExitCode == 0, printed.Stderr);
        var record = JsonDocument.Parse(printed.Stdout).RootElement.GetProperty("record").GetString()!;

        var address = LoopbackAddress.Random();
        var builder = new DnsWorldBuilder();
        builder.Zone(Zone, signed: true).Add("@ MX 10 mx", $"mx A {address}", record.Replace(" IN TLSA ", " TLSA "));
        await using var world = await builder.StartAsync();

        await using var queue = await DeliveryQueue.CreateAsync("e2e_ops_danein");
        var serveEnv = new Dictionary<string, string>(env)
        {
            ["Relay__Database"] = queue.ConnectionString,
            ["Relay__Dns__Servers__0"] = world.Resolver.ToString(),
            ["Relay__Tls__Certificate"] = certificate,
            ["Relay__Tls__Key"] = key,
            ["Relay__Domains__0"] = Zone,
            ["Relay__Smtp__Listen__0"] = $"{address}:25",
        };
        await using var relay = RelayProcess.Start(serveEnv, "serve", "--roles", "smtp");
        await using var postfix = await PostfixInstance.StartAsync("", "dane",
            ["smtp_host_lookup = dns", "smtp_dns_support_level = dnssec"], world.Resolver.Address);
        try
        {
            await relay.WaitForOutputAsync("own TLSA record", TimeSpan.FromSeconds(30));
            Assert.Contains($"own TLSA record _25._tcp.{Hostname}: matches", relay.Output);

            await postfix.SendAsync("sender@postfix.test.example", "someone@" + Zone, "Subject: DANE into Relay\n\nverified hop\n");
            await WaitForAsync(() => relay.Output.Contains("queued from", StringComparison.Ordinal), TimeSpan.FromSeconds(30),
                () => postfix.Log() + world.ResolverLog);
            Assert.Contains($"Verified TLS connection established to {Hostname}[{address}]:25", postfix.Log());
            Assert.Contains("(encrypted), 1 recipient(s)", relay.Output);
        }
        finally
        {
            output.WriteLine(postfix.Log());
            output.WriteLine(relay.Output);
        }
    }

    private static async Task WaitForAsync(Func<bool> done, TimeSpan timeout, Func<string> explain)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException("Postfix did not relay into Relay in time:\n" + explain());
            await Task.Delay(200);
        }
    }

    private static (string Certificate, string Key) WriteCertificate(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Hostname}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(Hostname);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var (certPath, keyPath) = (Path.Combine(directory, "mx.crt"), Path.Combine(directory, "mx.key"));
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }
}
