using Relay.Policy.TlsRpt;

namespace Relay.Policy.Tests.TlsRpt;

/// <summary>RFC 8460 §3 `_smtp._tls` TXT records: what is a destination, and every way a record asks for nothing.</summary>
public class TlsRptRecordTests
{
    private static TlsRptDiscovery.Wanted Wanted(params string[] records) => Assert.IsType<TlsRptDiscovery.Wanted>(TlsRptRecord.Parse(records));

    private static string NotWanted(params string[] records) => Assert.IsType<TlsRptDiscovery.NotWanted>(TlsRptRecord.Parse(records)).Reason;

    [Fact]
    public void The_rfc_examples_give_their_destinations_in_order()
    {
        Assert.Equal(["mailto:tlsrpt@mx.example.com"], Wanted("v=TLSRPTv1; rua=mailto:tlsrpt@mx.example.com").Destinations.Select(u => u.ToString()));
        var both = Wanted("v=TLSRPTv1;rua=mailto:reports@example.com , https://reporting.example.com/v1/tlsrpt;");
        Assert.Equal(["mailto:reports@example.com", "https://reporting.example.com/v1/tlsrpt"], both.Destinations.Select(u => u.ToString()));
        Assert.Empty(both.Ignored);
        Assert.Equal("reports@example.com", TlsRptRecord.MailAddress(both.Destinations[0]));
    }

    [Fact]
    public void Records_of_others_are_dropped_and_extension_fields_ignored()
    {
        var wanted = Wanted("v=spf1 -all", "v=TLSRPTv1; ext-1=x; rua=mailto:a@example.net; z.y_z=1");
        Assert.Equal("mailto:a@example.net", Assert.Single(wanted.Destinations).ToString());
    }

    [Fact]
    public void Other_schemes_are_ignored_with_a_reason_and_alone_they_ask_for_nothing()
    {
        var wanted = Wanted("v=TLSRPTv1; rua=http://plain.example/r,mailto:a@example.net");
        Assert.Contains("scheme http", Assert.Single(wanted.Ignored));
        Assert.Contains("no usable rua URI", NotWanted("v=TLSRPTv1; rua=ftp://example.net/r"));
    }

    [Theory]
    [InlineData("no v=TLSRPTv1 TXT record", "v=TLSRPTv2; rua=mailto:a@example.net")]
    [InlineData("no v=TLSRPTv1 TXT record", "v=tlsrptv1; rua=mailto:a@example.net")]
    [InlineData("no v=TLSRPTv1 TXT record", "v=TLSRPTv1x; rua=mailto:a@example.net")]
    [InlineData("no rua field", "v=TLSRPTv1")]
    [InlineData("no rua field", "v=TLSRPTv1; ext=1")]
    [InlineData("rua appears more than once", "v=TLSRPTv1; rua=mailto:a@example.net; rua=mailto:b@example.net")]
    [InlineData("not name=value", "v=TLSRPTv1; rua=mailto:a@example.net;; x=1")]
    [InlineData("not name=value", "v=TLSRPTv1; rua")]
    [InlineData("empty value", "v=TLSRPTv1; rua=")]
    [InlineData("field name", "v=TLSRPTv1; -x=1; rua=mailto:a@example.net")]
    [InlineData("empty URI", "v=TLSRPTv1; rua=mailto:a@example.net,")]
    [InlineData("not one plain mail address", "v=TLSRPTv1; rua=mailto:nobody")]
    [InlineData("not an absolute URI", "v=TLSRPTv1; rua=reports@example.net")]
    public void Malformed_records_ask_for_nothing_and_say_why(string why, string record) =>
        Assert.Contains(why, NotWanted(record));

    [Fact]
    public void Two_tlsrpt_records_mean_the_domain_does_not_implement_it() =>
        Assert.Contains("2 v=TLSRPTv1 TXT records", NotWanted("v=TLSRPTv1; rua=mailto:a@example.net", "v=TLSRPTv1; rua=mailto:b@example.net"));

    [Fact]
    public void Every_prefix_of_a_good_record_has_an_answer()
    {
        const string record = "v=TLSRPTv1; rua=mailto:a@example.net,https://r.example.net/x";
        for (var i = 0; i <= record.Length; i++)
            Assert.NotNull(TlsRptRecord.Parse([record[..i]]));
    }
}
