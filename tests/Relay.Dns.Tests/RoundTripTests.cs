using System.Net;
using Relay.Dns.Wire;

namespace Relay.Dns.Tests;

public sealed class RoundTripTests
{
    private static readonly byte[] Key = Convert.FromBase64String("AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==");

    public static TheoryData<string, DnsRecord, string> Records => new()
    {
        { "A", new ARecord("mx.example.org", 300, IPAddress.Parse("192.0.2.1")), "192.0.2.1" },
        { "AAAA", new AaaaRecord("mx.example.org", 300, IPAddress.Parse("2001:db8::1")), "2001:db8::1" },
        { "MX", new MxRecord("example.org", 300, 10, "mx.example.org"), "10 mx.example.org." },
        { "null MX", new MxRecord("example.org", 300, 0, "."), "0 ." },
        { "CNAME", new CnameRecord("www.example.org", 60, "example.org."), "example.org." },
        { "NS", new NsRecord("example.org", 86400, "ns1.example.net"), "ns1.example.net." },
        { "PTR", new PtrRecord("1.2.0.192.in-addr.arpa", 300, "mx.example.org"), "mx.example.org." },
        { "TXT", new TxtRecord("example.org", 300, "v=STSv1; ", "id=2024\"x\\"), "\"v=STSv1; \" \"id=2024\\\"x\\\\\"" },
        { "TXT bytes", new TxtRecord("example.org", 300, [[0x00, 0xFF, (byte)'a'], []]), "\"\\000\\255a\" \"\"" },
        { "TLSA", new TlsaRecord("_25._tcp.mx.example.org", 300, 3, 1, 1, Convert.FromHexString("00FF10")), "3 1 1 00FF10" },
        { "IPSECKEY none", new IpseckeyRecord("h.example.org", 300, 10, IpseckeyGatewayType.None, 2, null, null, Key), "10 0 2 . " + Convert.ToBase64String(Key) },
        { "IPSECKEY v4", new IpseckeyRecord("h.example.org", 300, 10, IpseckeyGatewayType.IPv4, 2, IPAddress.Parse("192.0.2.38"), null, Key), "10 1 2 192.0.2.38 " + Convert.ToBase64String(Key) },
        { "IPSECKEY v6", new IpseckeyRecord("h.example.org", 300, 10, IpseckeyGatewayType.IPv6, 2, IPAddress.Parse("2001:db8::38"), null, Key), "10 2 2 2001:db8::38 " + Convert.ToBase64String(Key) },
        { "IPSECKEY name", new IpseckeyRecord("h.example.org", 300, 10, IpseckeyGatewayType.Name, 2, null, "gw.example.org", Key), "10 3 2 gw.example.org. " + Convert.ToBase64String(Key) },
        { "IPSECKEY no key", new IpseckeyRecord("h.example.org", 300, 10, IpseckeyGatewayType.IPv4, 0, IPAddress.Parse("192.0.2.38"), null, []), "10 1 0 192.0.2.38" },
        { "SOA", new SoaRecord("example.org", 3600, "ns1.example.org", "hostmaster.example.org", 2024010101, 7200, 900, 1209600, 300), "ns1.example.org. hostmaster.example.org. 2024010101 7200 900 1209600 300" },
        { "unknown", new UnknownRecord("example.org", 300, (DnsType)65280, [0xDE, 0xAD]), @"\# 2 DEAD" },
        { "unknown empty", new UnknownRecord("example.org", 300, DnsType.DS, []), @"\# 0" },
        { "escaped owner", new ARecord(@"a\.b\032c.example.org", 300, IPAddress.Parse("192.0.2.1")), "192.0.2.1" },
    };

    [Theory]
    [MemberData(nameof(Records))]
    public void EveryRecordTypeSurvivesWriterAndReaderWithTheSamePresentation(string label, DnsRecord record, string presentation)
    {
        Assert.Equal(presentation, record.ToString());
        var message = new DnsMessage
        {
            Id = 0x1234,
            IsResponse = true,
            Questions = [new DnsQuestion(record.Name, record.Type)],
            // Twice, and in every section, so compression pointers to earlier names are exercised.
            Answers = [record, record],
            Authorities = [record],
            Additionals = [record],
        };
        var bytes = message.ToBytes();
        Assert.True(DnsMessage.TryParse(bytes, out var parsed, out var error), $"{label}: {error}");
        foreach (var section in new[] { parsed.Answers, parsed.Authorities, parsed.Additionals })
        {
            foreach (var r in section)
            {
                Assert.Equal(record.GetType(), r.GetType());
                Assert.Equal(record.ToZoneLine(), r.ToZoneLine());
            }
        }
        Assert.Equal(bytes, parsed.ToBytes());
    }

    [Fact]
    public void HeaderFlagsEdnsAndExtendedRcodeRoundTrip()
    {
        var message = new DnsMessage
        {
            Id = 0xBEEF,
            IsResponse = true,
            Opcode = 0,
            Authoritative = true,
            Truncated = true,
            RecursionDesired = true,
            RecursionAvailable = true,
            AuthenticData = true,
            CheckingDisabled = true,
            Rcode = DnsRcode.BadVers,
            Questions = [new DnsQuestion("example.org.", DnsType.TLSA)],
            Edns = new DnsEdns
            {
                UdpPayloadSize = 1232,
                DnssecOk = true,
                Options = [new DnsEdnsOption(DnsEdns.ExtendedErrorOption, [0, 6, (byte)'b', (byte)'o', (byte)'g'])],
            },
        };
        Assert.True(DnsMessage.TryParse(message.ToBytes(), out var parsed, out var error), error);
        Assert.Equal((ushort)0xBEEF, parsed.Id);
        Assert.True(parsed.IsResponse && parsed.Authoritative && parsed.Truncated && parsed.RecursionDesired
                    && parsed.RecursionAvailable && parsed.AuthenticData && parsed.CheckingDisabled);
        Assert.Equal(DnsRcode.BadVers, parsed.Rcode);
        Assert.NotNull(parsed.Edns);
        Assert.True(parsed.Edns.DnssecOk);
        Assert.Equal(1232, parsed.Edns.UdpPayloadSize);
        Assert.Equal((ushort)6, parsed.Edns.ExtendedErrorCode);
        Assert.Equal("bog", parsed.Edns.ExtendedErrorText);
    }

    [Fact]
    public void QueryAsksForDnssecWithTheConfiguredPayloadSize()
    {
        var query = DnsMessage.Query(7, "Example.ORG", DnsType.MX, 1400);
        Assert.True(DnsMessage.TryParse(query.ToBytes(), out var parsed, out _));
        Assert.True(parsed.RecursionDesired);
        Assert.True(parsed.AuthenticData);
        Assert.False(parsed.IsResponse);
        Assert.Equal(new DnsQuestion("Example.ORG.", DnsType.MX), parsed.Questions.Single());
        Assert.Equal((ushort)1400, parsed.Edns!.UdpPayloadSize);
        Assert.True(parsed.Edns.DnssecOk);
    }

    [Fact]
    public void NamesAreCompressedAgainstEarlierNames()
    {
        var message = new DnsMessage
        {
            Questions = [new DnsQuestion("example.org.", DnsType.MX)],
            Answers = [new MxRecord("example.org", 1, 10, "mx.example.org")],
        };
        // header 12 + question 13+4 + answer: owner pointer 2 + 10 + pref 2 + "mx" 3 + pointer 2
        Assert.Equal(12 + 17 + 2 + 10 + 2 + 3 + 2, message.ToBytes().Length);
    }
}
