using System.Net;
using System.Net.Sockets;

namespace Relay.EndToEnd.Tests.Configuration;

/// <summary>
/// Issue 15's table: each bad value makes the real `relay serve` exit 2 with one stderr line naming the key and the
/// value. The database is unreachable on purpose: `serve` connects before it binds, so an answer about our key and
/// not about Relay:Database shows that the refusal came before anything was connected or bound (and no row can
/// have been written). The listen port is also held by this test, so a relay that got as far as binding would
/// answer "address already in use" instead.
/// </summary>
public class BadConfigurationTests
{
    private const string Unreachable = "Host=127.0.0.1;Port=1;Timeout=3";
    private const string HiddenValue = "";

    /// <summary>(case, roles, environment as KEY=VALUE, key named, value named or "" when it must stay out).</summary>
    public static TheoryData<string, string, string[], string, string> Cases() => new()
    {
        { "bare number duration", "smtp", ["Relay__Smtp__IdleTimeout=300"], "Relay:Smtp:IdleTimeout", "300" },
        { "bare number greeting delay", "smtp", ["Relay__Smtp__GreetingDelay=3"], "Relay:Smtp:GreetingDelay", "3" },
        { "overflowing duration", "smtp", ["Relay__Smtp__IdleTimeout=1e20s"], "Relay:Smtp:IdleTimeout", "1e20s" },
        { "infinite duration", "smtp", ["Relay__Smtp__GreetingDelay=Infinitys"], "Relay:Smtp:GreetingDelay", "Infinitys" },
        { "huge lease", "delivery", ["Relay__Delivery__Lease=99999999999d"], "Relay:Delivery:Lease", "99999999999d" },
        { "zero idle timeout", "smtp", ["Relay__Smtp__IdleTimeout=0s"], "Relay:Smtp:IdleTimeout", "0s" },
        { "zero lease", "delivery", ["Relay__Delivery__Lease=0s"], "Relay:Delivery:Lease", "0s" },
        { "zero lifetime", "delivery", ["Relay__Delivery__Lifetime=0s"], "Relay:Delivery:Lifetime", "0s" },
        { "first retry after max retry", "delivery", ["Relay__Delivery__FirstRetry=2h", "Relay__Delivery__MaxRetry=1m"], "Relay:Delivery:FirstRetry", "2h" },
        { "delay warning after lifetime", "delivery", ["Relay__Delivery__DelayWarning=6d"], "Relay:Delivery:DelayWarning", "6d" },
        { "duration on a registered key", "delivery", ["Relay__Ipsec__Timeout=5"], "Relay:Ipsec:Timeout", "5" },
        { "typo Lisen", "smtp", ["Relay__Smtp__Lisen=127.0.0.1:25"], "Relay:Smtp:Lisen", "did you mean Relay:Smtp:Listen?" },
        { "typo IdleTimout", "smtp", ["Relay__Smtp__IdleTimout=5m"], "Relay:Smtp:IdleTimout", "did you mean Relay:Smtp:IdleTimeout?" },
        { "typo Worker", "delivery", ["Relay__Delivery__Worker=3"], "Relay:Delivery:Worker", "did you mean Relay:Delivery:Workers?" },
        { "typo Domain", "delivery", ["Relay__Domain=example.org"], "Relay:Domain", "did you mean Relay:Domains?" },
        { "unknown key, no near miss", "delivery", ["Relay__Frobnicator__Level=11"], "Relay:Frobnicator:Level", "11" },
        { "smtp without endpoints", "smtp", ["Relay__Smtp__Listen__0=<unset>"], "Relay:Smtp:Listen", "no endpoint" },
        { "host bits", "smtp", ["Relay__TrustedNetworks__0=10.0.0.1/8"], "Relay:TrustedNetworks:0", "did you mean 10.0.0.0/8?" },
        { "credential that is not a hash", "smtp", ["Relay__Smtp__Credentials__alice=notahash"], "Relay:Smtp:Credentials:alice", HiddenValue },
        { "integer overflow", "smtp", ["Relay__Smtp__ConnectionLimit=99999999999"], "Relay:Smtp:ConnectionLimit", "99999999999" },
        { "integer in exponent form", "smtp", ["Relay__Smtp__MessageSizeLimit=1e9"], "Relay:Smtp:MessageSizeLimit", "1e9" },
        { "port out of range", "delivery", ["Relay__MtaSts__Port=0"], "Relay:MtaSts:Port", "0" },
        { "unknown log format", "delivery", ["Relay__Logging__Format=xml"], "Relay:Logging:Format", "xml" },
        { "metrics endpoint by name", "delivery", ["Relay__Metrics__Listen__0=localhost:9464"], "Relay:Metrics:Listen:0", "localhost:9464" },
        { "boolean", "delivery", ["Relay__Ipsec__Enabled=yes"], "Relay:Ipsec:Enabled", "yes" },
        { "hostname", "delivery", ["Relay__Hostname=not a name"], "Relay:Hostname", "not a name" },
        { "listen and submission on one port", "smtp", ["Relay__Smtp__Submission__0=@"], "Relay:Smtp:Submission:0", "the same endpoint as Relay:Smtp:Listen:0" },
        { "wildcard overlaps an address", "smtp", ["Relay__Smtp__ImplicitTls__0=0.0.0.0:@port"], "Relay:Smtp:ImplicitTls:0", "the same endpoint" },
        { "web hash checked before smtp binds", "smtp,web", ["Relay__Web__AdminUser=admin", "Relay__Web__AdminPasswordHash=notahash"], "Relay:Web:AdminPasswordHash", "pbkdf2" },
        { "recipients of a domain not hosted", "smtp", ["Relay__Smtp__Recipients__other.example__0=a@other.example"], "Relay:Smtp:Recipients:other.example", "other.example" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_value_exits_2_with_one_line_naming_key_and_value_before_anything_binds(
        string name, string roles, string[] settings, string key, string named)
    {
        using var held = HoldFreePort(out var port);
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = Unreachable,
            ["Relay__DataDirectory"] = Path.Combine(Path.GetTempPath(), $"relay-badconfig-{Guid.NewGuid():N}"),
            ["Relay__Smtp__Listen__0"] = $"127.0.0.1:{port}",
        };
        foreach (var setting in settings)
        {
            var (k, v) = (setting[..setting.IndexOf('=')], setting[(setting.IndexOf('=') + 1)..]);
            if (v == "<unset>") { env.Remove(k); continue; }
            env[k] = v == "@" ? $"127.0.0.1:{port}" : v.Replace("@port", port.ToString(), StringComparison.Ordinal);
        }

        var (code, stdout, stderr) = await RelayProcess.RunAsync(env, "serve", "--roles", roles);

        Assert.True(code == 2, $"{name}: exit {code}\n{stdout}{stderr}");
        var lines = stderr.Trim().Split('\n');
        Assert.True(lines.Length == 1, $"{name}: expected one line, got:\n{stderr}");
        Assert.StartsWith("relay: configuration: " + key, lines[0]);
        if (named.Length > 0) Assert.Contains(named, lines[0]);
        else Assert.DoesNotContain(settings[0][(settings[0].IndexOf('=') + 1)..], lines[0]);
        Assert.DoesNotContain("Relay:Database", lines[0]);
        Assert.DoesNotContain("address already in use", lines[0]);
        Assert.False(Directory.Exists(env["Relay__DataDirectory"]), "nothing may be written before the configuration is valid");
    }

    [Fact]
    public async Task A_key_file_given_as_the_certificate_is_one_line_not_a_stack_trace()
    {
        var directory = Directory.CreateTempSubdirectory("relay-badcert-");
        try
        {
            var keyPem = System.Security.Cryptography.ECDsa.Create().ExportPkcs8PrivateKeyPem();
            var keyPath = Path.Combine(directory.FullName, "relay.key");
            await File.WriteAllTextAsync(keyPath, keyPem);
            using var held = HoldFreePort(out var port);
            var (code, _, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string>
            {
                ["Relay__Database"] = Unreachable,
                ["Relay__Smtp__Listen__0"] = $"127.0.0.1:{port}",
                ["Relay__Tls__Certificate"] = keyPath,
                ["Relay__Tls__Key"] = keyPath,
            }, "serve", "--roles", "smtp");
            Assert.Equal(2, code);
            var line = Assert.Single(stderr.Trim().Split('\n'));
            Assert.StartsWith($"relay: configuration: Relay:Tls:Certificate = \"{keyPath}\"", line);
            Assert.Contains("CERTIFICATE", line);
        }
        finally { directory.Delete(recursive: true); }
    }

    [Fact]
    public async Task A_config_file_with_only_a_typo_is_refused()
    {
        var path = Path.Combine(Path.GetTempPath(), $"relay-typo-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """{ "Relay": { "Database": "Host=127.0.0.1;Port=1", "Smtp": { "Lisen": [ "127.0.0.1:2525" ] } } }""");
        try
        {
            var (code, _, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string>(), "serve", "--roles", "smtp", "--config", path);
            Assert.Equal(2, code);
            var line = Assert.Single(stderr.Trim().Split('\n'));
            Assert.Contains("Relay:Smtp:Lisen:0 = \"127.0.0.1:2525\": unknown key; did you mean Relay:Smtp:Listen?", line);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task Config_check_accepts_a_good_configuration_and_warns_about_a_short_idle_timeout()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string>
        {
            ["Relay__Smtp__Listen__0"] = "127.0.0.1:2525",
            ["Relay__Smtp__IdleTimeout"] = "30s",
            ["Relay__Delivery__FirstRetry"] = "00:01:00",
        }, "config", "check", "--roles", "smtp,delivery");
        Assert.Equal(0, code);
        Assert.Contains("configuration is valid", stdout);
        var warning = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("relay: configuration warning: Relay:Smtp:IdleTimeout = \"30s\"", warning);
    }

    /// <summary>A free loopback port, held by this test until disposed.</summary>
    internal static TcpListener HoldFreePort(out int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }
}
