using System.Diagnostics;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// An independent oracle: `openssl s_client -starttls smtp` with the same TLSA records, against the same Postfix
/// listener, must reach the same DANE verdict as the one `relay queue show` records for a real delivery.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed class OpenSslOracleTests(DeliveryWorldFixture world, ITestOutputHelper output)
{
    [Theory]
    [InlineData("ee", "ee", "verified", "dane-ee", "matched EE certificate")]
    [InlineData("ta", "ta", "verified", "dane-ta", "matched TA certificate")]
    [InlineData("mm", "mismatch", null, null, null)]
    [InlineData("un", "unusable", "encrypted", null, null)]
    public async Task Recorded_dane_verdict_matches_what_openssl_s_client_sees(string host, string domain, string? transport, string? how,
        string? opensslMatch)
    {
        var name = $"mx-{host}.{DeliveryWorldFixture.Signed}";
        var openssl = await SClientAsync(world.Listeners[host].Address.ToString(), name, world.Tlsa[host]);
        output.WriteLine(openssl);
        var opensslVerified = openssl.Contains("Verification: OK", StringComparison.Ordinal);

        var recipient = $"oracle-{Guid.NewGuid():N}"[..18] + $"@{domain}.{DeliveryWorldFixture.Signed}";
        var id = await world.Queue.EnqueueAsync($"oracle@{DeliveryWorldFixture.SenderDomain}", [recipient]);
        await world.Queue.WaitForStatesAsync(id, TimeSpan.FromSeconds(30), "delivered", "deferred", "bounced");
        var shown = await world.Queue.ShowAsync(id);
        output.WriteLine(shown.Describe());
        var state = Assert.Single(shown.Recipients()).Text("state");

        if (transport is null)
        {
            // openssl refuses the peer, and Relay must not deliver to it at all.
            Assert.False(opensslVerified, openssl);
            Assert.Equal("deferred", state);
            return;
        }
        Assert.Equal("delivered", state);
        var attempt = shown.Attempts().Single(a => a.GetProperty("recipients").EnumerateArray().Any(r => r.Text("result") == "delivered"));
        Assert.Equal(transport, attempt.Text("transport"));
        Assert.Equal(transport == "verified", opensslVerified);
        if (how is not null) Assert.Equal(how, attempt.Text("how"));
        if (opensslMatch is not null) Assert.Contains(opensslMatch, openssl);
    }

    /// <summary>openssl s_client with DANE (the SMTP profile): stdin closed at once so it quits after the handshake; bounded by a timeout.</summary>
    private static async Task<string> SClientAsync(string address, string name, IEnumerable<string> tlsa)
    {
        var info = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var argument in new[] { "s_client", "-brief", "-starttls", "smtp", "-connect", $"{address}:25", "-servername", name, "-dane_tlsa_domain", name,
                     "-dane_ee_no_namechecks" }) // RFC 7672 §3.1.1: DANE-EE ignores names, as Postfix's DANE does

            info.ArgumentList.Add(argument);
        foreach (var record in tlsa)
        {
            info.ArgumentList.Add("-dane_tlsa_rrdata");
            info.ArgumentList.Add(record);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start openssl");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("openssl s_client did not finish within 20 s");
        }
        return await stdout + await stderr;
    }
}
