using Relay.Dns.Wire;

namespace Relay.Dns;

public sealed class SoaRecord(string name, uint ttl, string primaryServer, string responsibleMailbox,
    uint serial, uint refresh, uint retry, uint expire, uint minimum, ushort @class = DnsRecord.ClassIN)
    : DnsRecord(name, ttl, @class)
{
    public override DnsType Type => DnsType.SOA;
    public string PrimaryServer { get; } = DnsName.Normalize(primaryServer);
    public string ResponsibleMailbox { get; } = DnsName.Normalize(responsibleMailbox);
    public uint Serial { get; } = serial;
    public uint Refresh { get; } = refresh;
    public uint Retry { get; } = retry;
    public uint Expire { get; } = expire;

    /// <summary>With the SOA's own TTL, bounds how long a negative answer may be cached (RFC 2308 §5).</summary>
    public uint Minimum { get; } = minimum;

    public uint NegativeTtl => Math.Min(Ttl, Minimum);

    public override string ToString() =>
        $"{PrimaryServer} {ResponsibleMailbox} {Number(Serial)} {Number(Refresh)} {Number(Retry)} {Number(Expire)} {Number(Minimum)}";

    internal override void WriteData(DnsWriter writer)
    {
        writer.WriteName(PrimaryServer, compress: true);
        writer.WriteName(ResponsibleMailbox, compress: true);
        writer.WriteUInt32(Serial);
        writer.WriteUInt32(Refresh);
        writer.WriteUInt32(Retry);
        writer.WriteUInt32(Expire);
        writer.WriteUInt32(Minimum);
    }

    internal static SoaRecord Read(string name, uint ttl, ushort @class, ref DnsReader reader)
    {
        var mname = reader.ReadName();
        var rname = reader.ReadName();
        return new SoaRecord(name, ttl, mname, rname, reader.ReadUInt32(), reader.ReadUInt32(),
            reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32(), @class);
    }
}
