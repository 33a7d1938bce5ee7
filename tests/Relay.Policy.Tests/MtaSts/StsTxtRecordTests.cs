using Relay.Policy.MtaSts;

namespace Relay.Policy.Tests.MtaSts;

/// <summary>RFC 8461 §3.1 `_mta-sts` TXT records, parsed with no I/O.</summary>
public class StsTxtRecordTests
{
    [Theory]
    [InlineData("v=STSv1; id=20160831085700Z;", "20160831085700Z")]
    [InlineData("v=STSv1;id=abc", "abc")]
    [InlineData("v=STSv1 ;\tid=abc ; ext=whatever ;", "abc")]
    [InlineData("v=STSv1; future=1; id=A1b2", "A1b2")]
    public void A_well_formed_record_gives_its_id(string record, string id)
    {
        Assert.Equal(new StsDiscovery.Available(id), StsTxtRecord.Parse(["v=spf1 -all", record]));
    }

    [Theory]
    [InlineData("v=STSv1;", "no id")]
    [InlineData("v=STSv1; id=", "not 1 to 32")]
    [InlineData("v=STSv1; id=abc-def", "not 1 to 32")]
    [InlineData("v=STSv1; id=123456789012345678901234567890123", "not 1 to 32")]
    [InlineData("v=STSv1; id=a; id=b", "more than once")]
    [InlineData("v=STSv1;; id=a", "not key=value")]
    [InlineData("v=STSv1; =a; id=a", "not key=value")]
    [InlineData("v=STSv10; id=a", "no v=STSv1")]
    [InlineData("V=STSv1; id=a", "no v=STSv1")]
    public void A_malformed_record_offers_no_policy(string record, string why)
    {
        var none = Assert.IsType<StsDiscovery.NotAvailable>(StsTxtRecord.Parse([record]));
        Assert.Contains(why, none.Reason);
    }

    [Fact]
    public void Two_sts_records_offer_no_policy()
    {
        Assert.IsType<StsDiscovery.NotAvailable>(StsTxtRecord.Parse(["v=STSv1; id=a;", "v=STSv1; id=b;"]));
    }

    [Fact]
    public void Every_prefix_of_a_record_gets_an_answer()
    {
        const string record = "v=STSv1; id=20160831085700Z;";
        for (var length = 0; length <= record.Length; length++)
        {
            var answer = StsTxtRecord.Parse([record[..length]]);
            var expectId = length >= record.IndexOf("id=", StringComparison.Ordinal) + 4;
            Assert.Equal(expectId, answer is StsDiscovery.Available);
        }
    }
}
