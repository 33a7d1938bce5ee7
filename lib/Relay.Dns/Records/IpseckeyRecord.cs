using System.Net;
using Relay.Dns.Wire;

namespace Relay.Dns;

public enum IpseckeyGatewayType : byte
{
    None = 0,
    IPv4 = 1,
    IPv6 = 2,
    Name = 3,
}

/// <summary>IPSECKEY (RFC 4025): precedence, gateway (none, IPv4, IPv6 or an uncompressed name),
/// algorithm and public key. Presentation "10 1 2 192.0.2.38 BASE64".</summary>
public sealed class IpseckeyRecord : DnsRecord
{
    public IpseckeyRecord(string name, uint ttl, byte precedence, IpseckeyGatewayType gatewayType, byte algorithm,
        IPAddress? gatewayAddress, string? gatewayName, byte[] publicKey, ushort @class = ClassIN)
        : base(name, ttl, @class)
    {
        switch (gatewayType)
        {
            case IpseckeyGatewayType.None when gatewayAddress is null && gatewayName is null:
                break;
            case IpseckeyGatewayType.IPv4 when gatewayAddress?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && gatewayName is null:
            case IpseckeyGatewayType.IPv6 when gatewayAddress?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && gatewayName is null:
                break;
            case IpseckeyGatewayType.Name when gatewayAddress is null && gatewayName is not null:
                gatewayName = DnsName.Normalize(gatewayName);
                break;
            default:
                throw new ArgumentException($"gateway does not match gateway type {gatewayType}");
        }
        Precedence = precedence;
        GatewayType = gatewayType;
        Algorithm = algorithm;
        GatewayAddress = gatewayAddress;
        GatewayName = gatewayName;
        PublicKey = (byte[])publicKey.Clone();
    }

    public override DnsType Type => DnsType.IPSECKEY;
    public byte Precedence { get; }
    public IpseckeyGatewayType GatewayType { get; }

    /// <summary>1 DSA, 2 RSA, 3 ECDSA (RFC 8005); 0 means no key.</summary>
    public byte Algorithm { get; }

    public IPAddress? GatewayAddress { get; }
    public string? GatewayName { get; }
    public byte[] PublicKey { get; }

    public override string ToString()
    {
        var gateway = GatewayType switch
        {
            IpseckeyGatewayType.None => ".",
            IpseckeyGatewayType.Name => GatewayName!,
            _ => GatewayAddress!.ToString(),
        };
        var text = $"{Number(Precedence)} {Number((byte)GatewayType)} {Number(Algorithm)} {gateway}";
        return PublicKey.Length == 0 ? text : text + " " + Convert.ToBase64String(PublicKey);
    }

    internal override void WriteData(DnsWriter writer)
    {
        writer.WriteByte(Precedence);
        writer.WriteByte((byte)GatewayType);
        writer.WriteByte(Algorithm);
        switch (GatewayType)
        {
            case IpseckeyGatewayType.IPv4:
            case IpseckeyGatewayType.IPv6:
                writer.WriteBytes(GatewayAddress!.GetAddressBytes());
                break;
            case IpseckeyGatewayType.Name:
                writer.WriteName(GatewayName!, compress: false); // RFC 4025 §2.5: MUST NOT be compressed
                break;
        }
        writer.WriteBytes(PublicKey);
    }

    internal static IpseckeyRecord Read(string name, uint ttl, ushort @class, ref DnsReader reader)
    {
        var precedence = reader.ReadByte();
        var gatewayType = reader.ReadByte();
        var algorithm = reader.ReadByte();
        IPAddress? address = null;
        string? gatewayName = null;
        switch (gatewayType)
        {
            case 0: break;
            case 1: address = new IPAddress(reader.ReadBytes(4)); break;
            case 2: address = new IPAddress(reader.ReadBytes(16)); break;
            case 3: gatewayName = reader.ReadName(allowCompression: false); break;
            default: throw new DnsFormatException($"IPSECKEY gateway type {gatewayType} is undefined");
        }
        return new IpseckeyRecord(name, ttl, precedence, (IpseckeyGatewayType)gatewayType, algorithm,
            address, gatewayName, reader.ReadRest(), @class);
    }
}
