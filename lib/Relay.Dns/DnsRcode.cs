namespace Relay.Dns;

/// <summary>Response codes, including the EDNS0 extended bits (RFC 6891).</summary>
public enum DnsRcode : ushort
{
    NoError = 0,
    FormErr = 1,
    ServFail = 2,
    NxDomain = 3,
    NotImp = 4,
    Refused = 5,
    YxDomain = 6,
    YxRrset = 7,
    NxRrset = 8,
    NotAuth = 9,
    NotZone = 10,
    BadVers = 16,
}

public static class DnsRcodes
{
    /// <summary>The upper-case mnemonic used by dig and by `relay dns --json` ("NOERROR", "SERVFAIL", "RCODE23").</summary>
    public static string ToText(DnsRcode rcode) => Enum.IsDefined(rcode)
        ? rcode.ToString().ToUpperInvariant()
        : "RCODE" + ((ushort)rcode).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
