namespace Relay.Policy.Tests.Vocabulary;

public class VocabularyTests
{
    [Fact]
    public void Transport_security_is_ordered_weakest_first()
    {
        Assert.True(TransportSecurity.Cleartext < TransportSecurity.Encrypted);
        Assert.True(TransportSecurity.Encrypted < TransportSecurity.Trusted);
        Assert.True(TransportSecurity.Trusted < TransportSecurity.Verified);
    }

    [Fact]
    public void Wire_names_round_trip_and_match_the_database_checks()
    {
        Assert.Equal(["cleartext", "encrypted", "trusted", "verified"], Enum.GetValues<TransportSecurity>().Select(v => v.ToWire()));
        Assert.Equal(["none", "dane-ee", "dane-ta", "pkix", "mta-sts", "fingerprint"], Enum.GetValues<AuthenticationMethod>().Select(v => v.ToWire()));
        Assert.Equal(["none", "may", "encrypt", "dane", "dane-only", "verify", "secure", "fingerprint"], Enum.GetValues<PolicyLevel>().Select(v => v.ToWire()));
        Assert.Equal(["secure", "secure-empty", "insecure", "bogus", "error", "not-queried"], Enum.GetValues<TlsaStatus>().Select(v => v.ToWire()));
        foreach (var v in Enum.GetValues<TransportSecurity>()) Assert.Equal(v, TransportSecurityWire.Parse(v.ToWire()));
        foreach (var v in Enum.GetValues<AuthenticationMethod>()) Assert.Equal(v, AuthenticationMethodWire.Parse(v.ToWire()));
        foreach (var v in Enum.GetValues<PolicyLevel>()) Assert.Equal(v, PolicyLevelWire.Parse(v.ToWire()));
        foreach (var v in Enum.GetValues<TlsaStatus>()) Assert.Equal(v, DnssecStatusWire.ParseTlsaStatus(v.ToWire()));
        foreach (var v in Enum.GetValues<MxDnssec>()) Assert.Equal(v, DnssecStatusWire.ParseMxDnssec(v.ToWire()));
        foreach (var v in Enum.GetValues<AddressDnssec>()) Assert.Equal(v, DnssecStatusWire.ParseAddressDnssec(v.ToWire()));
        Assert.Equal(["starttls-not-supported", "certificate-host-mismatch", "certificate-expired", "certificate-not-trusted", "validation-failure",
            "tlsa-invalid", "dnssec-invalid", "dane-required", "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid"],
            Enum.GetValues<TlsRptResult>().Select(v => v.ToWire()));
        foreach (var v in Enum.GetValues<TlsRptResult>()) Assert.Equal(v, TlsRptResultWire.Parse(v.ToWire()));
    }

    [Fact]
    public void Tls_rpt_result_types_are_exactly_those_the_database_allows()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "relay.sln"))) root = Path.GetDirectoryName(root)!;
        var migration = File.ReadAllText(Path.Combine(root, "db", "migrations", "0003_nothing_sent.sql"));
        var check = migration[migration.IndexOf("result_type text check", StringComparison.Ordinal)..];
        check = check[..check.IndexOf("));", StringComparison.Ordinal)];
        var allowed = System.Text.RegularExpressions.Regex.Matches(check, "'([a-z-]+)'").Select(m => m.Groups[1].Value);
        Assert.Equal(allowed, Enum.GetValues<TlsRptResult>().Select(v => v.ToWire()));
        foreach (var v in Enum.GetValues<TlsRptResult>()) Assert.Equal(v, TlsRptResultWire.Parse(v.ToWire()));
        Assert.Equal(["none", "testing", "enforce"], Enum.GetValues<StsMode>().Select(v => v.ToWire()));
    }

    [Fact]
    public void Parsing_a_bad_level_names_the_value()
    {
        var e = Assert.Throws<FormatException>(() => PolicyLevelWire.Parse("dane_only"));
        Assert.Contains("'dane_only'", e.Message);
        Assert.Contains("dane-only", e.Message);
        Assert.Contains("'secured'", Assert.Throws<FormatException>(() => TransportSecurityWire.Parse("secured")).Message);
    }
}
