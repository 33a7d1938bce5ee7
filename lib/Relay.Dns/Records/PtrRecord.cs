using Relay.Dns.Wire;

namespace Relay.Dns;

public sealed class PtrRecord(string name, uint ttl, string target, ushort @class = DnsRecord.ClassIN)
    : DnsRecord(name, ttl, @class)
{
    public override DnsType Type => DnsType.PTR;
    public string Target { get; } = DnsName.Normalize(target);
    public override string ToString() => Target;

    internal override void WriteData(DnsWriter writer) => writer.WriteName(Target, compress: true);

    internal static PtrRecord Read(string name, uint ttl, ushort @class, ref DnsReader reader) =>
        new(name, ttl, reader.ReadName(), @class);
}
