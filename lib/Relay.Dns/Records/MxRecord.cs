using Relay.Dns.Wire;

namespace Relay.Dns;

public sealed class MxRecord(string name, uint ttl, ushort preference, string exchange, ushort @class = DnsRecord.ClassIN)
    : DnsRecord(name, ttl, @class)
{
    public override DnsType Type => DnsType.MX;
    public ushort Preference { get; } = preference;
    public string Exchange { get; } = DnsName.Normalize(exchange);

    /// <summary>RFC 7505 null MX: the domain accepts no mail.</summary>
    public bool IsNullMx => Exchange == ".";

    public override string ToString() => $"{Number(Preference)} {Exchange}";

    internal override void WriteData(DnsWriter writer)
    {
        writer.WriteUInt16(Preference);
        writer.WriteName(Exchange, compress: true);
    }

    internal static MxRecord Read(string name, uint ttl, ushort @class, ref DnsReader reader)
    {
        var preference = reader.ReadUInt16();
        return new MxRecord(name, ttl, preference, reader.ReadName(), @class);
    }
}
