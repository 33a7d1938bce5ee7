using System.Diagnostics;
using System.Net;
using Relay.Policy.Dane;
using Relay.TestKit;

namespace Relay.Policy.Tests.Cli;

/// <summary>
/// OpenSSL's own DANE implementation as an oracle (TESTING.md): an `openssl s_server` presents the
/// openssl-made chain, `openssl s_client -dane_tlsa_rrdata` judges each TLSA record, and our verifier must
/// reach the same yes/no on the same records and name. -dane_ee_no_namechecks is RFC 7672 §3.1.1 (what
/// Postfix sets): DANE-EE ignores names.
/// </summary>
public class OpensslDaneOracleTests : IAsyncLifetime
{
    private OpensslPki _pki = null!;
    private Process? _server;
    private int _port;

    public async Task InitializeAsync()
    {
        _pki = await OpensslPki.CreateAsync();
        _port = Processes.FreeTcpPort(IPAddress.Loopback);
        var psi = new ProcessStartInfo("openssl")
        {
            WorkingDirectory = _pki.Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "s_server", "-accept", $"127.0.0.1:{_port}", "-cert", "leaf.pem", "-key", "leaf.key", "-cert_chain", "int.pem", "-quiet", "-naccept", "50" })
            psi.ArgumentList.Add(a);
        _server = Process.Start(psi)!;
        _ = _server.StandardOutput.ReadToEndAsync();
        _ = _server.StandardError.ReadToEndAsync();
        // Bounded wait until the listener accepts.
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, _port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException("openssl s_server did not start listening");
    }

    public Task DisposeAsync()
    {
        if (_server is { HasExited: false }) _server.Kill(entireProcessTree: true);
        _server?.Dispose();
        _pki.Dispose();
        return Task.CompletedTask;
    }

    private async Task<(bool Verified, string Output)> OpensslSaysAsync(string record, string name)
    {
        var psi = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "s_client", "-connect", $"127.0.0.1:{_port}", "-servername", name, "-dane_tlsa_domain", name,
                     "-dane_tlsa_rrdata", record, "-dane_ee_no_namechecks", "-verify_return_error", "-brief" })
            psi.ArgumentList.Add(a);
        using var client = Process.Start(psi)!;
        client.StandardInput.Close();
        var stdout = client.StandardOutput.ReadToEndAsync();
        var stderr = client.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.WaitForExitAsync(cts.Token);
        var output = await stdout + await stderr;
        return (client.ExitCode == 0 && output.Contains("Verification: OK", StringComparison.Ordinal), output);
    }

    [Fact]
    public async Task Our_verifier_agrees_with_openssl_on_every_record()
    {
        var ee = _pki.Read("ee311");
        var altered = (ee[0] == '0' ? "1" : "0") + ee[1..];
        var cases = new (string Record, string Name)[]
        {
            ($"3 1 1 {ee}", "mx.example.net"),
            ($"3 1 2 {_pki.Read("ee312")}", "mx.example.net"),
            ($"3 0 1 {_pki.Read("ee301")}", "other.example.net"),
            ($"2 0 1 {_pki.Read("ta201")}", "mx.example.net"),
            ($"2 1 1 {_pki.Read("ta211")}", "mx.example.net"),
            ($"2 0 0 {_pki.Read("ta200")}", "mx.example.net"),
            ($"2 0 1 {_pki.Read("ta201")}", "other.example.net"),
            ($"3 1 1 {altered}", "mx.example.net"),
            ($"1 1 1 {ee}", "mx.example.net"),
            // RFC 7671 §5.2.3: the root's full key in DNS, the root not in the server's chain (leaf + intermediate).
            ($"2 1 0 {_pki.Read("ta210")}", "mx.example.net"),
            ($"2 1 0 {_pki.Read("ta210")}", "other.example.net"),
            ($"2 1 0 {_pki.Read("other210")}", "mx.example.net"),
        };
        var verifiedSeen = 0;
        foreach (var (record, name) in cases)
        {
            var (openssl, transcript) = await OpensslSaysAsync(record, name);
            var ours = DaneVerifyTool.Run([record], _pki.Read("chain.pem"), "chain.pem", [name], json: true, DateTimeOffset.UtcNow);
            Assert.True(openssl == (ours.ExitCode == 0), $"{record} for {name}: openssl {(openssl ? "verified" : "refused")}, ours {ours.Stdout}\n{transcript}");
            if (openssl) verifiedSeen++;
        }
        Assert.Equal(7, verifiedSeen);
    }
}
