using System.Diagnostics;
using System.Net;
using Relay.Dns.Wire;

namespace Relay.Dns.Tests;

/// <summary>The reader answers every input with a message or an error value: no other exception, no hang.</summary>
public sealed class MalformedPacketTests
{
    internal static byte[] SampleAnswer() => new DnsMessage
    {
        Id = 0x4242,
        IsResponse = true,
        RecursionDesired = true,
        RecursionAvailable = true,
        AuthenticData = true,
        Questions = [new DnsQuestion("example.org.", DnsType.MX)],
        Answers =
        [
            new MxRecord("example.org", 300, 10, "mx.example.org"),
            new TlsaRecord("_25._tcp.mx.example.org", 300, 3, 1, 1, new byte[32]),
            new IpseckeyRecord("mx.example.org", 300, 10, IpseckeyGatewayType.Name, 2, null, "gw.example.org", [1, 2, 3]),
            new TxtRecord("example.org", 300, "v=spf1 -all"),
        ],
        Authorities = [new SoaRecord("example.org", 300, "ns.example.org", "h.example.org", 1, 2, 3, 4, 5)],
        Additionals = [new ARecord("mx.example.org", 300, IPAddress.Parse("192.0.2.1")), new AaaaRecord("mx.example.org", 300, IPAddress.Parse("2001:db8::1"))],
        Edns = new DnsEdns { UdpPayloadSize = 1232, DnssecOk = true },
    }.ToBytes();

    private static string ParseError(byte[] packet)
    {
        var watch = Stopwatch.StartNew();
        var ok = DnsMessage.TryParse(packet, out _, out var error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), "parsing must not loop");
        Assert.False(ok, "malformed input must be reported as an error");
        return error!;
    }

    [Fact]
    public void EveryProperPrefixOfAValidAnswerIsAnError()
    {
        var packet = SampleAnswer();
        Assert.True(DnsMessage.TryParse(packet, out _, out _));
        for (var length = 0; length < packet.Length; length++)
            ParseError(packet[..length]);
    }

    [Fact]
    public void TrailingGarbageIsAnError() => ParseError([.. SampleAnswer(), 0]);

    private static byte[] Header(ushort qd, ushort an = 0) =>
        [0x12, 0x34, 0x81, 0x80, (byte)(qd >> 8), (byte)qd, (byte)(an >> 8), (byte)an, 0, 0, 0, 0];

    [Fact]
    public void CompressionPointerToItselfIsAnError() =>
        Assert.Contains("backwards", ParseError([.. Header(1), 0xC0, 12, 0, 1, 0, 1]));

    [Fact]
    public void CompressionPointersPointingAtEachOtherAreAnError()
    {
        // question name at 12: "a" then pointer to 17; at 17 a pointer back to 12.
        ParseError([.. Header(1), 1, (byte)'a', 0xC0, 17, 0, 0xC0, 12, 0, 1, 0, 1]);
    }

    [Fact]
    public void ForwardCompressionPointerIsAnError() =>
        ParseError([.. Header(1), 0xC0, 20, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);

    [Fact]
    public void LongChainOfBackwardPointersIsBounded()
    {
        // Record 1 (owner root, unknown type) carries a blob as opaque RDATA: at 23 a root name, then 100
        // pointers each pointing at the previous one. Record 2's owner points at the last pointer: the walk
        // terminates (every pointer goes backwards) but exceeds the jump bound.
        var blob = new List<byte> { 0 };
        for (var k = 0; k < 100; k++)
        {
            var target = k == 0 ? 23 : 24 + 2 * (k - 1);
            blob.AddRange([(byte)(0xC0 | (target >> 8)), (byte)target]);
        }
        var last = 24 + 2 * 99;
        byte[] packet =
        [
            .. Header(0, 2),
            0, 0xFF, 0x00, 0, 1, 0, 0, 0, 0, (byte)(blob.Count >> 8), (byte)blob.Count, .. blob,
            (byte)(0xC0 | (last >> 8)), (byte)last, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4,
        ];
        Assert.Contains("too many", ParseError(packet));
    }

    [Fact]
    public void RdataLengthPastTheEndIsAnError()
    {
        var packet = SampleAnswer();
        Assert.True(DnsMessage.TryParse(packet, out var m, out _));
        // The first answer's RDLENGTH sits right after owner(pointer 2) type class ttl: question ends at 12+13+4.
        var at = 12 + 13 + 4 + 2 + 8;
        packet[at] = 0xFF;
        packet[at + 1] = 0xFF;
        ParseError(packet);
    }

    [Fact]
    public void RdataShorterThanItsTypeNeedsIsAnError()
    {
        // An A record with RDLENGTH 3.
        ParseError([.. Header(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
        // A TLSA record with RDLENGTH 2 (needs at least 3 fixed octets).
        ParseError([.. Header(0, 1), 0, 0, 52, 0, 1, 0, 0, 0, 0, 0, 2, 3, 1]);
    }

    [Fact]
    public void NameInRdataLongerThanRdlengthIsAnError() =>
        // CNAME with RDLENGTH 2 but the name inside needs 5 octets.
        ParseError([.. Header(0, 1), 0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 2, 3, (byte)'a', (byte)'b', (byte)'c', 0]);

    [Fact]
    public void LabelLengthPastTheEndIsAnError() => ParseError([.. Header(1), 40, (byte)'a', 0]);

    [Fact]
    public void NameLongerThan255OctetsIsAnError()
    {
        var name = new List<byte>();
        for (var i = 0; i < 5; i++) { name.Add(60); name.AddRange(Enumerable.Repeat((byte)'a', 60)); }
        name.Add(0);
        Assert.Contains("255", ParseError([.. Header(1), .. name, 0, 1, 0, 1]));
    }

    [Fact]
    public void ReservedLabelTypeIsAnError() => ParseError([.. Header(1), 0x40, 0, 1, 0, 1]);

    [Fact]
    public void CompressedIpseckeyGatewayNameIsAnError()
    {
        // RFC 4025: the gateway name must not be compressed.
        ParseError([.. Header(0, 1), 0, 0, 45, 0, 1, 0, 0, 0, 0, 0, 5, 10, 3, 2, 0xC0, 12]);
    }

    [Fact]
    public void UnknownIpseckeyGatewayTypeIsAnError() =>
        ParseError([.. Header(0, 1), 0, 0, 45, 0, 1, 0, 0, 0, 0, 0, 4, 10, 9, 2, 0]);

    [Fact]
    public void TwoOptRecordsOrOptInTheAnswerAreErrors()
    {
        byte[] opt = [0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 0];
        byte[] twoOpts = [0x12, 0x34, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 2, .. opt, .. opt];
        ParseError(twoOpts);
        ParseError([.. Header(0, 1), .. opt]);
    }

    [Fact]
    public void HugeCountsWithNoDataAreAnErrorQuickly() =>
        ParseError([0x12, 0x34, 0x81, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
}
