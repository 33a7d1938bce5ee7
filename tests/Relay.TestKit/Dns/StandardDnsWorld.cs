namespace Relay.TestKit.Dns;

/// <summary>
/// The ready-made world shared by the Dns, Policy and Delivery tests. Every case issue 3 lists has a
/// name here; the comment says what a validating resolver must answer for it.
/// </summary>
public static class StandardDnsWorld
{
    public const string SecureZone = "secure.example.";
    public const string InsecureZone = "insecure.example.";
    public const string BogusZone = "bogus.example.";

    /// <summary>MX 10 <see cref="SecureMx"/>, secure.</summary>
    public const string SecureDomain = SecureZone;
    /// <summary>A 192.0.2.25, AAAA 2001:db8::25, IPSECKEY (IPv4 gateway): secure. TXT: secure NODATA.</summary>
    public const string SecureMx = "mx.secure.example.";
    public const string SecureMxA = "192.0.2.25";
    public const string SecureMxAaaa = "2001:db8::25";
    /// <summary>TLSA 3 1 1 <see cref="TlsaHex"/>, secure.</summary>
    public const string SecureMxTlsa = "_25._tcp.mx.secure.example.";
    public const string TlsaHex = "8CB0FC6C527506A053F4F14C8464BEBBD6DEDE2738D11468DD953D7D6A3021F1";
    public const string IpseckeyPublicKey = "AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==";
    /// <summary>IPSECKEY with gateway type 0 (no gateway), 2 (IPv6) and 3 (a name): secure.</summary>
    public const string IpseckeyNoGateway = "gw-none.secure.example.";
    public const string IpseckeyIPv6Gateway = "gw-v6.secure.example.";
    public const string IpseckeyNameGateway = "gw-name.secure.example.";

    /// <summary>A 192.0.2.26 secure, but its TLSA RRSIG is corrupted: TLSA query → SERVFAIL (bogus) alone.</summary>
    public const string BadTlsaHost = "badtlsa.secure.example.";
    public const string BadTlsaName = "_25._tcp.badtlsa.secure.example.";

    /// <summary>alias → alias2 → mx.secure.example. (two secure links; A is secure).</summary>
    public const string SecureAlias = "alias.secure.example.";
    public const string SecureAlias2 = "alias2.secure.example.";
    /// <summary>CNAME (secure link) to mx.insecure.example.: A is insecure, the link itself secure.</summary>
    public const string AliasIntoInsecure = "toinsecure.secure.example.";
    /// <summary>CNAME in the insecure zone to mx.secure.example.: answer insecure, link insecure.</summary>
    public const string AliasFromInsecure = "tosecure.insecure.example.";

    /// <summary>TXT RRset larger than 512 octets: needs TCP when the client advertises 512.</summary>
    public const string BigTxt = "big.secure.example.";
    public const int BigTxtCount = 12;

    public const string SecureNxDomain = "nothere.secure.example.";
    /// <summary>Ask TXT: the name exists, no TXT.</summary>
    public const string SecureNoData = SecureMx;

    /// <summary>MX 10 <see cref="InsecureMx"/>, insecure (delegation without DS).</summary>
    public const string InsecureDomain = InsecureZone;
    /// <summary>A 192.0.2.35 and TLSA 3 1 1 <see cref="TlsaHex"/>, both insecure.</summary>
    public const string InsecureMx = "mx.insecure.example.";
    public const string InsecureMxA = "192.0.2.35";
    public const string InsecureMxTlsa = "_25._tcp.mx.insecure.example.";
    public const string InsecureNxDomain = "nothere.insecure.example.";
    /// <summary>Ask TXT: the name exists, no TXT.</summary>
    public const string InsecureNoData = InsecureMx;

    /// <summary>Signed zone whose MX and mx A signatures are broken: both bogus.</summary>
    public const string BogusDomain = BogusZone;
    public const string BogusMx = "mx.bogus.example.";

    public const uint Ttl = DnsWorldBuilder.DefaultTtl;

    public static DnsWorldBuilder Describe()
    {
        var b = new DnsWorldBuilder();
        b.Zone("example.", signed: true);
        var secure = b.Zone(SecureZone, signed: true).Add(
            "@ MX 10 mx",
            $"mx A {SecureMxA}",
            $"mx AAAA {SecureMxAaaa}",
            $"_25._tcp.mx TLSA 3 1 1 {TlsaHex}",
            $"mx IPSECKEY 10 1 2 {SecureMxA} {IpseckeyPublicKey}",
            $"gw-none IPSECKEY 10 0 2 . {IpseckeyPublicKey}",
            $"gw-v6 IPSECKEY 10 2 2 {SecureMxAaaa} {IpseckeyPublicKey}",
            $"gw-name IPSECKEY 10 3 2 mx.secure.example. {IpseckeyPublicKey}",
            "badtlsa A 192.0.2.26",
            $"_25._tcp.badtlsa TLSA 3 1 1 {TlsaHex}",
            "alias CNAME alias2",
            "alias2 CNAME mx",
            "toinsecure CNAME mx.insecure.example.");
        for (var i = 0; i < BigTxtCount; i++)
            secure.Add($"big TXT \"record {i:D2} {new string((char)('a' + i), 80)}\"");
        secure.CorruptSignature("_25._tcp.badtlsa", "TLSA");

        b.Zone(InsecureZone, signed: false).Add(
            "@ MX 10 mx",
            $"mx A {InsecureMxA}",
            $"_25._tcp.mx TLSA 3 1 1 {TlsaHex}",
            "tosecure CNAME mx.secure.example.");

        b.Zone(BogusZone, signed: true).Add(
                "@ MX 10 mx",
                "mx A 192.0.2.45")
            .CorruptSignature("@", "MX")
            .CorruptSignature("mx", "A");
        return b;
    }

    public static Task<DnsWorld> StartAsync(CancellationToken cancellationToken = default) =>
        Describe().StartAsync(cancellationToken);
}
