using System.Text.Json;
using Relay.EndToEnd.Tests.Configuration;

namespace Relay.EndToEnd.Tests;

/// <summary>`relay tlsrpt show|send` as operators run them: bad input exits 2 naming the value; show prints RFC 8460 JSON.</summary>
public class TlsRptCommandTests
{
    [Theory]
    [InlineData("--day '2026-13-01'", "tlsrpt", "show", "example.org", "--day", "2026-13-01")]
    [InlineData("--day 'yesterday'", "tlsrpt", "send", "--day", "yesterday")]
    [InlineData("--day '2999-01-01' has not ended yet", "tlsrpt", "send", "--day", "2999-01-01")]
    [InlineData("DOMAIN 'bad..example'", "tlsrpt", "show", "bad..example", "--day", "2026-12-01")]
    [InlineData("DOMAIN 'bad..example'", "tlsrpt", "send", "--day", "2026-12-01", "bad..example")]
    public async Task Bad_day_or_domain_exits_2_naming_the_value(string named, params string[] command)
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string> { ["Relay__Database"] = "Host=127.0.0.1;Port=1" }, command);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(named, Assert.Single(stderr.Trim().Split('\n')));
    }

    [Fact]
    public async Task Show_json_of_a_day_without_sessions_has_the_rfc_fields_and_the_configured_header()
    {
        var database = await ListenerConflictTests.MigratedDatabaseAsync("e2e_tlsrpt_show");
        var (code, stdout, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string>
        {
            ["Relay__Database"] = database,
            ["Relay__Hostname"] = "relay.example",
            ["Relay__TlsRpt__Organization"] = "Example Org",
            ["Relay__TlsRpt__Contact"] = "mailto:tls-reports@example.org",
        }, "tlsrpt", "show", "Example.NET", "--day", "2026-11-30", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("Example Org", report.GetProperty("organization-name").GetString());
        Assert.Equal("2026-11-30T00:00:00Z", report.GetProperty("date-range").GetProperty("start-datetime").GetString());
        Assert.Equal("2026-11-30T23:59:59Z", report.GetProperty("date-range").GetProperty("end-datetime").GetString());
        Assert.Equal("mailto:tls-reports@example.org", report.GetProperty("contact-info").GetString());
        Assert.Equal("20261130.example.net@relay.example", report.GetProperty("report-id").GetString());
        Assert.Equal(0, report.GetProperty("policies").GetArrayLength());
    }
}
