using System.Net;
using System.Net.Sockets;
using Relay.Dns.Wire;

namespace Relay.Dns;

public sealed class ARecord : DnsRecord
{
    public ARecord(string name, uint ttl, IPAddress address, ushort @class = ClassIN) : base(name, ttl, @class)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork) throw new ArgumentException("A needs an IPv4 address");
        Address = address;
    }

    public override DnsType Type => DnsType.A;
    public IPAddress Address { get; }
    public override string ToString() => Address.ToString();

    internal override void WriteData(DnsWriter writer) => writer.WriteBytes(Address.GetAddressBytes());

    internal static ARecord Read(string name, uint ttl, ushort @class, ref DnsReader reader)
    {
        if (reader.Remaining != 4) throw new DnsFormatException("A RDATA is not 4 octets");
        return new ARecord(name, ttl, new IPAddress(reader.ReadBytes(4)), @class);
    }
}
