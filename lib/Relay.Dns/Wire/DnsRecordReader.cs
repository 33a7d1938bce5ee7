namespace Relay.Dns.Wire;

/// <summary>Dispatches RDATA to the record type's reader; the reader is limited to the RDATA.</summary>
internal static class DnsRecordReader
{
    public static DnsRecord Read(string name, DnsType type, ushort @class, uint ttl, ref DnsReader r) => type switch
    {
        DnsType.A => ARecord.Read(name, ttl, @class, ref r),
        DnsType.AAAA => AaaaRecord.Read(name, ttl, @class, ref r),
        DnsType.MX => MxRecord.Read(name, ttl, @class, ref r),
        DnsType.CNAME => CnameRecord.Read(name, ttl, @class, ref r),
        DnsType.NS => NsRecord.Read(name, ttl, @class, ref r),
        DnsType.PTR => PtrRecord.Read(name, ttl, @class, ref r),
        DnsType.TXT => TxtRecord.Read(name, ttl, @class, ref r),
        DnsType.TLSA => TlsaRecord.Read(name, ttl, @class, ref r),
        DnsType.IPSECKEY => IpseckeyRecord.Read(name, ttl, @class, ref r),
        DnsType.SOA => SoaRecord.Read(name, ttl, @class, ref r),
        _ => UnknownRecord.Read(name, ttl, @class, type, ref r),
    };
}
