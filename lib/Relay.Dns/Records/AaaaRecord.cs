using System.Net;
using System.Net.Sockets;
using Relay.Dns.Wire;

namespace Relay.Dns;

public sealed class AaaaRecord : DnsRecord
{
    public AaaaRecord(string name, uint ttl, IPAddress address, ushort @class = ClassIN) : base(name, ttl, @class)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) throw new ArgumentException("AAAA needs an IPv6 address");
        Address = address;
    }

    public override DnsType Type => DnsType.AAAA;
    public IPAddress Address { get; }
    public override string ToString() => Address.ToString();

    internal override void WriteData(DnsWriter writer) => writer.WriteBytes(Address.GetAddressBytes());

    internal static AaaaRecord Read(string name, uint ttl, ushort @class, ref DnsReader reader)
    {
        if (reader.Remaining != 16) throw new DnsFormatException("AAAA RDATA is not 16 octets");
        return new AaaaRecord(name, ttl, new IPAddress(reader.ReadBytes(16)), @class);
    }
}
