using System.Globalization;

namespace Relay.Dns;

/// <summary>RR TYPE codes (IANA). Values outside the named set are valid and kept opaque.</summary>
public enum DnsType : ushort
{
    A = 1,
    NS = 2,
    CNAME = 5,
    SOA = 6,
    PTR = 12,
    MX = 15,
    TXT = 16,
    AAAA = 28,
    SRV = 33,
    OPT = 41,
    DS = 43,
    IPSECKEY = 45,
    RRSIG = 46,
    NSEC = 47,
    DNSKEY = 48,
    NSEC3 = 50,
    TLSA = 52,
    ANY = 255,
    CAA = 257,
}

public static class DnsTypes
{
    /// <summary>Mnemonic for named types, RFC 3597 "TYPEnnn" otherwise.</summary>
    public static string ToText(DnsType type) =>
        Enum.IsDefined(type) ? type.ToString() : "TYPE" + ((ushort)type).ToString(CultureInfo.InvariantCulture);

    /// <summary>Accepts a mnemonic (any case) or "TYPEnnn"; rejects OPT and ANY, which are not queryable data.</summary>
    public static bool TryParse(string? text, out DnsType type)
    {
        type = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (text.StartsWith("TYPE", StringComparison.OrdinalIgnoreCase)
            && ushort.TryParse(text.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            type = (DnsType)code;
        }
        else if (!char.IsAsciiLetter(text[0]) || !text.All(char.IsAsciiLetterOrDigit)
                 || !Enum.TryParse(text, ignoreCase: true, out type)
                 || !Enum.IsDefined(type))
        {
            return false;
        }
        return type is not (DnsType.OPT or DnsType.ANY) && (ushort)type != 0;
    }
}
