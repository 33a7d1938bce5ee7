using Relay.TestKit.Postgres;

namespace Relay.EndToEnd.Tests;

/// <summary>The command-line contract of DESIGN.md § Contracts, exercised on the real executable.</summary>
public class CliContractTests
{
    private static Dictionary<string, string> Env(params (string Key, string Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    [Fact]
    public async Task Version_prints_the_version_and_exits_0()
    {
        var (code, stdout, _) = await RelayProcess.RunAsync(Env(), "--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", stdout.Trim());
    }

    [Fact]
    public async Task Unknown_command_exits_2()
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(Env(), "frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("frobnicate", stderr);
    }

    [Fact]
    public async Task Migrate_without_a_database_key_names_the_key_and_exits_2()
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(Env(), "migrate");
        Assert.Equal(2, code);
        Assert.Contains("Relay:Database", stderr);
    }

    [Fact]
    public async Task Unreachable_database_names_the_key_and_exits_2()
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(Env(("Relay__Database", "Host=127.0.0.1;Port=1;Username=nobody;Timeout=3")), "migrate");
        Assert.Equal(2, code);
        Assert.Contains("Relay:Database", stderr);
        Assert.Contains("unreachable", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("Relay__TrustedNetworks__0", "10.0.0.0/33", "Relay:TrustedNetworks:0")]
    [InlineData("Relay__TrustedNetworks__0", "not-a-network", "Relay:TrustedNetworks:0")]
    [InlineData("Relay__Domains__0", "exa mple.org", "Relay:Domains:0")]
    [InlineData("Relay__Domains__0", "-bad-.org", "Relay:Domains:0")]
    [InlineData("Relay__Smtp__Listen__0", "127.0.0.1:99999", "Relay:Smtp:Listen:0")]
    [InlineData("Relay__Smtp__Listen__0", "localhost:25", "Relay:Smtp:Listen:0")]
    [InlineData("Relay__Policy__Default", "sometimes", "Relay:Policy:Default")]
    [InlineData("Relay__Delivery__Port", "0", "Relay:Delivery:Port")]
    [InlineData("Relay__Routes__example.org", "[not-an-ip]:25", "Relay:Routes:example.org")]
    [InlineData("Relay__Tls__Certificate", "/nonexistent/cert.pem", "Relay:Tls")]
    [InlineData("Relay__Delivery__Workers", "many", "Relay:Delivery:Workers")]
    [InlineData("Relay__Delivery__FirstRetry", "soon", "Relay:Delivery:FirstRetry")]
    [InlineData("Relay__Delivery__DestinationConcurrency", "lots", "Relay:Delivery:DestinationConcurrency")]
    [InlineData("Relay__Delivery__SessionIdle", "10m", "Relay:Delivery:SessionIdle")]
    [InlineData("Relay__Smtp__BareLineEndings", "sometimes", "Relay:Smtp:BareLineEndings")]
    [InlineData("Relay__Smtp__RecipientLimit", "0", "Relay:Smtp:RecipientLimit")]
    [InlineData("Relay__Ipsec__Enabled", "maybe", "Relay:Ipsec:Enabled")]
    [InlineData("Relay__Ipsec__Timeout", "forever", "Relay:Ipsec:Timeout")]
    [InlineData("Relay__Ipsec__Timeout", "5m", "Relay:Ipsec:Timeout")]
    [InlineData("Relay__MtaSts__Port", "https", "Relay:MtaSts:Port")]
    [InlineData("Relay__Metrics__Listen", "localhost:9464", "Relay:Metrics:Listen")]
    [InlineData("Relay__Metrics__Listen", "127.0.0.1:70000", "Relay:Metrics:Listen")]
    [InlineData("Relay__Logging__Format", "xml", "Relay:Logging:Format")]
    public async Task Bad_configuration_stops_start_up_naming_key_and_value_with_exit_2(string variable, string value, string key)
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(Env((variable, value), ("Relay__Database", "Host=127.0.0.1;Port=1")), "serve");
        Assert.Equal(2, code);
        Assert.Contains(key, stderr);
        if (!key.StartsWith("Relay:Tls", StringComparison.Ordinal))
            Assert.Contains(value, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    /// <summary>Values only the delivery role reads past their syntax (a path that must be absolute, a file that must parse).</summary>
    [Theory]
    [InlineData("Relay__Ipsec__ControlSocket", "pluto.ctl", "Relay:Ipsec:ControlSocket")]
    [InlineData("Relay__Tls__TrustAnchors", "/nonexistent/anchors.pem", "Relay:Tls:TrustAnchors")]
    public async Task Bad_delivery_configuration_stops_start_up_naming_key_and_value_with_exit_2(string variable, string value, string key)
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(Env((variable, value), ("Relay__Database", "Host=127.0.0.1;Port=1")), "serve", "--roles", "delivery");
        Assert.Equal(2, code);
        Assert.Contains(key, stderr);
        Assert.Contains(value, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Web_role_without_a_password_hash_refuses_to_start_and_says_why()
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(Env(("Relay__Database", "Host=127.0.0.1;Port=1"), ("Relay__Web__AdminUser", "admin")),
            "serve", "--roles", "web");
        Assert.Equal(2, code);
        Assert.Contains("Relay:Web:AdminPasswordHash", stderr);
        Assert.Contains("hash-password", stderr);
    }

    [Fact]
    public async Task Web_certificate_that_cannot_be_loaded_names_the_key_and_exits_2()
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(Env(("Relay__Database", "Host=127.0.0.1;Port=1"), ("Relay__Web__AdminUser", "admin"),
            ("Relay__Web__AdminPasswordHash", "x"), ("Relay__Web__Certificate", "/nonexistent/web.pem"), ("Relay__Web__Key", "/nonexistent/web.key")),
            "serve", "--roles", "web");
        Assert.Equal(2, code);
        Assert.Contains("Relay:Web:Certificate", stderr);
        Assert.Contains("/nonexistent/web.pem", stderr);
    }

    [Fact]
    public async Task Key_encryption_certificate_must_be_rsa_with_its_key_in_one_pem_file()
    {
        // Made here, never committed: an ECDSA pair (XML encryption cannot use it) and an RSA pair, each as one PEM file.
        static string Pem(System.Security.Cryptography.AsymmetricAlgorithm key, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
        {
            var path = Path.Combine(Path.GetTempPath(), $"relay-ring-{Guid.NewGuid():N}.pem");
            File.WriteAllText(path, certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem());
            return path;
        }
        using var ecdsa = System.Security.Cryptography.ECDsa.Create();
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var now = DateTimeOffset.UtcNow;
        using var ecdsaCertificate = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=ring", ecdsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSelfSigned(now, now.AddDays(1));
        using var rsaCertificate = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=ring", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1).CreateSelfSigned(now, now.AddDays(1));
        var (ecdsaPem, rsaPem) = (Pem(ecdsa, ecdsaCertificate), Pem(rsa, rsaCertificate));
        try
        {
            (string, string)[] Web(string ring) => [("Relay__Database", "Host=127.0.0.1;Port=1"), ("Relay__Web__AdminUser", "admin"),
                ("Relay__Web__AdminPasswordHash", "x"), ("Relay__Web__KeyEncryptionCertificate", ring)];
            var (code, _, stderr) = await RelayProcess.RunAsync(Env(Web(ecdsaPem)), "serve", "--roles", "web");
            Assert.Equal(2, code);
            Assert.Contains("Relay:Web:KeyEncryptionCertificate", stderr);
            Assert.Contains(ecdsaPem, stderr);
            Assert.Contains("not RSA", stderr);
            // The RSA file passes: the next complaint is the (deliberately unusable) password hash.
            (code, _, stderr) = await RelayProcess.RunAsync(Env(Web(rsaPem)), "serve", "--roles", "web");
            Assert.Equal(2, code);
            Assert.DoesNotContain("KeyEncryptionCertificate", stderr);
            Assert.Contains("Relay:Web:AdminPasswordHash", stderr);
        }
        finally
        {
            File.Delete(ecdsaPem);
            File.Delete(rsaPem);
        }
    }

    [Fact]
    public async Task Delivery_refuses_a_hosted_domain_without_a_route()
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(Env(("Relay__Database", "Host=127.0.0.1;Port=1"), ("Relay__Domains__0", "hosted.example")),
            "serve", "--roles", "delivery");
        Assert.Equal(2, code);
        Assert.Contains("Relay:Routes:hosted.example", stderr);
    }

    [Fact]
    public async Task Config_file_that_is_not_json_names_the_file_and_exits_2()
    {
        var path = Path.Combine(Path.GetTempPath(), $"relay-bad-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, "{ \"Relay\": ");
        try
        {
            var (code, _, stderr) = await RelayProcess.RunAsync(Env(), "migrate", "--config", path);
            Assert.Equal(2, code);
            Assert.Contains(path, stderr);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task Migrate_applies_the_schema_once_and_a_second_run_reports_up_to_date()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("e2e_migrate");

        var first = await RelayProcess.RunAsync(Env(("Relay__Database", database)), "migrate");
        var second = await RelayProcess.RunAsync(Env(("Relay__Database", database)), "migrate");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("0001_initial", first.Stdout);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("up to date", second.Stdout);
    }

    [Fact]
    public async Task Serve_refuses_a_database_that_was_not_migrated()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("e2e_unmigrated");

        var (code, _, stderr) = await RelayProcess.RunAsync(Env(("Relay__Database", database)), "serve", "--roles", "delivery");

        Assert.Equal(2, code);
        Assert.Contains("relay migrate", stderr);
    }

    [Fact]
    public async Task Serve_with_an_unknown_role_exits_2_naming_it()
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(Env(("Relay__Database", "Host=127.0.0.1;Port=1")), "serve", "--roles", "smtp,teleport");
        Assert.Equal(2, code);
        Assert.Contains("teleport", stderr);
    }
}
