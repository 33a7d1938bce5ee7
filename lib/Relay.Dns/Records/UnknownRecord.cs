using Relay.Dns.Wire;

namespace Relay.Dns;

/// <summary>Any type without its own class (DS, RRSIG, NSEC, …): RDATA kept opaque, shown as RFC 3597 "\# LEN HEX".</summary>
public sealed class UnknownRecord : DnsRecord
{
    private readonly DnsType _type;

    public UnknownRecord(string name, uint ttl, DnsType type, byte[] data, ushort @class = ClassIN) : base(name, ttl, @class)
    {
        _type = type;
        Data = (byte[])data.Clone();
    }

    public override DnsType Type => _type;
    public byte[] Data { get; }

    public override string ToString() =>
        Data.Length == 0 ? @"\# 0" : $@"\# {Number((uint)Data.Length)} {Hex(Data)}";

    internal override void WriteData(DnsWriter writer) => writer.WriteBytes(Data);

    internal static UnknownRecord Read(string name, uint ttl, ushort @class, DnsType type, ref DnsReader reader) =>
        new(name, ttl, type, reader.ReadRest(), @class);
}
