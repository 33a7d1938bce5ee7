using Relay.Dns.Wire;

namespace Relay.Dns;

/// <summary>TLSA (RFC 6698). Presentation "U S M HEX", the form `relay dane verify --tlsa` accepts.</summary>
public sealed class TlsaRecord : DnsRecord
{
    public TlsaRecord(string name, uint ttl, byte usage, byte selector, byte matchingType, byte[] data, ushort @class = ClassIN)
        : base(name, ttl, @class)
    {
        Usage = usage;
        Selector = selector;
        MatchingType = matchingType;
        Data = (byte[])data.Clone();
    }

    public override DnsType Type => DnsType.TLSA;

    /// <summary>0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE. Unknown values are kept; the policy decides usability.</summary>
    public byte Usage { get; }

    /// <summary>0 full certificate, 1 SubjectPublicKeyInfo.</summary>
    public byte Selector { get; }

    /// <summary>0 exact, 1 SHA-256, 2 SHA-512.</summary>
    public byte MatchingType { get; }

    public byte[] Data { get; }

    public override string ToString() =>
        $"{Number(Usage)} {Number(Selector)} {Number(MatchingType)} {(Data.Length == 0 ? "-" : Hex(Data))}";

    internal override void WriteData(DnsWriter writer)
    {
        writer.WriteByte(Usage);
        writer.WriteByte(Selector);
        writer.WriteByte(MatchingType);
        writer.WriteBytes(Data);
    }

    internal static TlsaRecord Read(string name, uint ttl, ushort @class, ref DnsReader reader)
    {
        var usage = reader.ReadByte();
        var selector = reader.ReadByte();
        var matching = reader.ReadByte();
        return new TlsaRecord(name, ttl, usage, selector, matching, reader.ReadRest(), @class);
    }
}
