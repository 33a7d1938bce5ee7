using Relay.Policy.TlsRpt;

namespace Relay.Policy.Tests.TlsRpt;

/// <summary>Which sessions RFC 8460 counts, and how alike failures are summed.</summary>
public class TlsRptAggregatorTests
{
    private static readonly TlsRptPolicy Dane = new(TlsRptPolicyType.Tlsa, ["3 1 1 AB"], ["mx.example.net"]);

    private static TlsRptReport Build(params TlsRptSession[] sessions) =>
        TlsRptAggregator.Build("example.net", new DateOnly(2026, 12, 1), "Org", "mailto:c@relay.example", "relay.example", sessions);

    [Fact]
    public void Sessions_that_never_reached_tls_for_reasons_not_tls_are_not_counted()
    {
        var report = Build(new TlsRptSession(Dane, TlsEstablished: false, ResultType: null, null, "mx.example.net", "192.0.2.1", null));
        Assert.True(report.IsEmpty);
    }

    [Fact]
    public void A_handshake_without_a_result_type_succeeds_and_a_result_type_fails_even_with_a_handshake()
    {
        var report = Build(
            new TlsRptSession(Dane, true, null, "192.0.2.9", "mx.example.net", "192.0.2.1", "mx", Count: 3),
            new TlsRptSession(Dane, true, TlsRptResult.TlsaInvalid, "192.0.2.9", "mx.example.net", "192.0.2.1", "mx"),
            new TlsRptSession(Dane, false, TlsRptResult.TlsaInvalid, "192.0.2.9", "mx.example.net", "192.0.2.1", "mx", Count: 2),
            new TlsRptSession(Dane, false, TlsRptResult.TlsaInvalid, "192.0.2.9", "mx.example.net", "192.0.2.2", "mx"));
        var entry = Assert.Single(report.Policies);
        Assert.Equal((3L, 4L), (entry.Successful, entry.Failed));
        Assert.Equal([("192.0.2.1", 3L), ("192.0.2.2", 1L)], entry.Failures.Select(f => (f.ReceivingIp, f.Count)));
        Assert.Equal("20261201.example.net@relay.example", report.ReportId);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 23, 59, 59, TimeSpan.Zero), report.End);
    }

    [Fact]
    public void Sts_policy_strings_are_the_policy_lines()
    {
        var policy = new Relay.Policy.MtaSts.StsPolicy(StsMode.Enforce, ["mx.example.net", "*.backup.example.net"], TimeSpan.FromDays(1));
        Assert.Equal(["version: STSv1", "mode: enforce", "mx: mx.example.net", "mx: *.backup.example.net", "max_age: 86400"], TlsRptPolicy.StsLines(policy));
    }

    [Fact]
    public void A_fetched_policy_reports_its_own_lines_extension_fields_included()
    {
        var document = "version: STSv1\r\nmode: testing\r\nmx: MX.example.net\r\nx-contact: ops@example.net\r\nmax_age: 604800\r\n";
        var parsed = Assert.IsType<Relay.Policy.MtaSts.StsPolicyParse.Valid>(Relay.Policy.MtaSts.StsPolicyParser.Parse(document)).Policy;
        Assert.Equal(["version: STSv1", "mode: testing", "mx: MX.example.net", "x-contact: ops@example.net", "max_age: 604800"], TlsRptPolicy.StsLines(parsed));
        Assert.Equal(["mx.example.net"], parsed.Mx);   // the parsed pattern is lower-cased; the reported line is the document's
    }
}
