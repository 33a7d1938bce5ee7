using Relay.Dns.Wire;

namespace Relay.Dns;

public sealed class NsRecord(string name, uint ttl, string host, ushort @class = DnsRecord.ClassIN)
    : DnsRecord(name, ttl, @class)
{
    public override DnsType Type => DnsType.NS;
    public string Host { get; } = DnsName.Normalize(host);
    public override string ToString() => Host;

    internal override void WriteData(DnsWriter writer) => writer.WriteName(Host, compress: true);

    internal static NsRecord Read(string name, uint ttl, ushort @class, ref DnsReader reader) =>
        new(name, ttl, reader.ReadName(), @class);
}
