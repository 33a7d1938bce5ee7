using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Relay.Delivery.Ipsec;

/// <summary>One ESP SA from <c>whack --trafficstatus</c>: its state number, connection, peer address and the peer's IKE id.</summary>
public sealed record TrafficSa(int State, string Connection, IPAddress? Peer, string Type, string? PeerId)
{
    /// <summary>IKEv2 NULL authentication (RFC 7619): the peer proved nothing about who it is.</summary>
    public bool Anonymous => PeerId is null or "ID_NULL";
}

/// <summary>One bare shunt from <c>whack --shuntstatus</c>: pluto's standing decision for a pair while or after negotiating.</summary>
public sealed record BareShunt(IPNetwork Local, IPNetwork Remote, string Action, string Label)
{
    public bool Covers(IPAddress local, IPAddress remote) => (local is null || Local.Contains(local)) && Remote.Contains(remote);
}

/// <summary>One public key from <c>whack --listpubkeys</c>: its type, libreswan's short key id (the first 9 characters of the
/// key's base64) and the IKE id it is held for (as whack --keyid spells it: an address, or @name).</summary>
public sealed record PlutoPublicKey(string Type, string ShortKeyId, string IdType, string Id);

/// <summary>One IKE or Child SA state from <c>whack --status</c> (the "#N: ..." lines).</summary>
public sealed record PlutoState(int Number, string Connection, IPAddress? Peer, string Name)
{
    public bool IkeEstablished => Name is "STATE_V2_ESTABLISHED_IKE_SA";
    public bool ChildEstablished => Name is "STATE_V2_ESTABLISHED_CHILD_SA";
}

/// <summary>What one <c>whack --oppohere … --oppothere …</c> printed while pluto negotiated (it streams pluto's log for the pair).</summary>
public sealed record InitiationOutput(
    bool Unreachable,
    bool NotCovered,
    bool AlreadyNegotiating,
    bool IkeEstablished,
    string? IkeAuthentication,
    bool ChildEstablished,
    bool ChildRejected,
    bool KernelEspMissing,
    bool NoResponse,
    string? LastLine)
{
    /// <summary>The IKE id whose preloaded public key (one whack loaded, not a certificate) the peer's AUTH signature matched.</summary>
    public string? SignedWithPreloadedKey { get; init; }

    /// <summary>pluto's "authentication failed: …" line: the peer did not prove what the conn demands (e.g. no key for its id).</summary>
    public string? AuthenticationFailure { get; init; }
}

/// <summary>
/// Parses the text whack prints (libreswan 4.10: lines of a three-digit code, a space and the text; later versions drop
/// the code, so it is optional). Pure: no I/O, every input answers. whack's exit code says little (0 after a Child SA was
/// refused, 31/33 for other failures), so the text is the evidence.
/// </summary>
public static partial class WhackOutput
{
    public static IReadOnlyList<TrafficSa> ParseTraffic(string text)
    {
        var list = new List<TrafficSa>();
        foreach (var line in Lines(text))
        {
            var m = TrafficLine().Match(line);
            if (!m.Success) continue;
            list.Add(new TrafficSa(int.Parse(m.Groups["state"].Value, CultureInfo.InvariantCulture), m.Groups["conn"].Value,
                Address(m.Groups["peer"].Value), m.Groups["type"].Value, IdField().Match(line) is { Success: true } id ? id.Groups["id"].Value : null));
        }
        return list;
    }

    public static IReadOnlyList<BareShunt> ParseShunts(string text)
    {
        var list = new List<BareShunt>();
        foreach (var line in Lines(text))
        {
            var m = ShuntLine().Match(line);
            if (!m.Success) continue;
            if (!IPNetwork.TryParse(m.Groups["local"].Value, out var local) || !IPNetwork.TryParse(m.Groups["remote"].Value, out var remote)) continue;
            list.Add(new BareShunt(local, remote, m.Groups["action"].Value, m.Groups["label"].Value));
        }
        return list;
    }

    public static IReadOnlyList<PlutoState> ParseStates(string text)
    {
        var list = new List<PlutoState>();
        foreach (var line in Lines(text))
        {
            var m = StateLine().Match(line);
            if (!m.Success) continue;
            list.Add(new PlutoState(int.Parse(m.Groups["state"].Value, CultureInfo.InvariantCulture), m.Groups["conn"].Value,
                Address(m.Groups["peer"].Value), m.Groups["name"].Value));
        }
        return list;
    }

    public static InitiationOutput ParseInitiation(string text)
    {
        bool unreachable = false, notCovered = false, already = false, ike = false, child = false, rejected = false, noEsp = false, noResponse = false;
        string? auth = null, last = null, signedId = null, authFailure = null;
        foreach (var line in Lines(text))
        {
            last = line;
            if (line.Contains("Pluto is not running", StringComparison.Ordinal) || line.StartsWith("whack: ", StringComparison.Ordinal))
                unreachable = true;
            else if (line.Contains("no routed template covers this pair", StringComparison.Ordinal))
                notCovered = true;
            else if (line.Contains("ignoring found existing connection instance", StringComparison.Ordinal))
                already = true;
            else if (AuthLine().Match(line) is { Success: true } a)
            {
                ike = true;
                auth = a.Groups["auth"].Value;
            }
            else if (SignatureAuthLine().Match(line) is { Success: true } sig)
            {
                ike = true;
                auth = $"digital signature ({sig.Groups["alg"].Value})";
                if (sig.Groups["source"].Value == "preloaded certificate") signedId = sig.Groups["id"].Value;
            }
            else if (line.Contains("authentication failed:", StringComparison.Ordinal))
                authFailure = line[line.IndexOf("authentication failed:", StringComparison.Ordinal)..];
            else if (line.Contains("established Child SA", StringComparison.Ordinal) || line.Contains("IPsec SA established", StringComparison.Ordinal))
                child = true;
            else if (line.Contains("rejected Child SA", StringComparison.Ordinal) || line.Contains("TS_UNACCEPTABLE", StringComparison.Ordinal)
                     || line.Contains("NO_PROPOSAL_CHOSEN", StringComparison.Ordinal))
                rejected = true;
            else if (line.Contains("Add SA esp", StringComparison.Ordinal) && (line.Contains("errno 38", StringComparison.Ordinal)
                     || line.Contains("Function not implemented", StringComparison.Ordinal) || line.Contains("Requested type not found", StringComparison.Ordinal)))
                noEsp = true;
            else if (line.Contains("No response (or no acceptable response) to our first IKE", StringComparison.Ordinal))
                noResponse = true;
        }
        return new InitiationOutput(unreachable, notCovered, already, ike, auth, child, rejected, noEsp, noResponse, last)
        {
            SignedWithPreloadedKey = signedId,
            AuthenticationFailure = authFailure,
        };
    }

    /// <summary>
    /// From <c>whack --status</c>: per connection (instance number dropped, as --trafficstatus names it) what the peer must
    /// prove, e.g. <c>RSASIG+RSASIG_v1_5</c> or <c>AUTH_NULL</c> ("their auth:").
    /// </summary>
    public static IReadOnlyDictionary<string, string> ParseTheirAuth(string text)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Lines(text))
            if (TheirAuthLine().Match(line) is { Success: true } m)
                map[m.Groups["conn"].Value] = m.Groups["their"].Value;
        return map;
    }

    public static IReadOnlyList<PlutoPublicKey> ParsePublicKeys(string text)
    {
        var list = new List<PlutoPublicKey>();
        (string Type, string KeyId)? pending = null;
        foreach (var line in Lines(text))
        {
            if (KeyLine().Match(line) is { Success: true } k) pending = (k.Groups["type"].Value, k.Groups["keyid"].Value);
            else if (pending is { } p && KeyIdLine().Match(line) is { Success: true } i)
            {
                list.Add(new PlutoPublicKey(p.Type, p.KeyId, i.Groups["idtype"].Value, i.Groups["id"].Value));
                pending = null;
            }
        }
        return list;
    }

    /// <summary>libreswan's short key id of a key in whack's 0s form: what --listpubkeys prints for it.</summary>
    public static string ShortKeyId(string whackValue) => whackValue.StartsWith("0s", StringComparison.Ordinal) && whackValue.Length >= 11 ? whackValue[2..11] : whackValue;

    /// <summary>The lines' texts without whack's three-digit code; blank lines dropped.</summary>
    public static IEnumerable<string> Lines(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length >= 4 && char.IsAsciiDigit(line[0]) && char.IsAsciiDigit(line[1]) && char.IsAsciiDigit(line[2]) && line[3] == ' ')
                line = line[4..];
            line = line.Trim();
            if (line.Length > 0) yield return line;
        }
    }

    /// <summary>An address as whack prints a peer: bare, or IPv4 with ":port" (IPv6 with a port is ambiguous and read as printed).</summary>
    private static IPAddress? Address(string text)
    {
        if (text.Contains('.') && text.LastIndexOf(':') is var colon and > 0 && text.IndexOf(':') == colon) text = text[..colon];
        return IPAddress.TryParse(text, out var a) ? a : null;
    }

    // #2: "private-or-clear#10.0.0.0/24"[1] 10.0.0.2, type=ESP, add_time=1, inBytes=0, outBytes=0, maxBytes=2^63B, id='ID_NULL'
    [GeneratedRegex("""^#(?<state>\d+): "(?<conn>[^"]*)"(?:\[\d+\])?\s*(?:\.\.\.)?(?<peer>[0-9A-Fa-f:.]+)?,\s*type=(?<type>[A-Z]+)(?:,|$)""")]
    private static partial Regex TrafficLine();

    [GeneratedRegex("""(?:^|, )id='(?<id>[^']*)'""")]
    private static partial Regex IdField();

    // 10.0.0.1/32 -0-> 10.0.0.2/32 => %pass 0    oe-failing
    [GeneratedRegex("""^(?<local>[0-9A-Fa-f:.]+/\d+)\s+-\S*->\s+(?<remote>[0-9A-Fa-f:.]+/\d+)\s+=>\s+%(?<action>\w+)\s+\d+\s+(?<label>\S+)""")]
    private static partial Regex ShuntLine();

    // #1: "private-or-clear#10.0.0.0/24"[1] ...10.0.0.2:500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); ...
    [GeneratedRegex("""^#(?<state>\d+): "(?<conn>[^"]*)"(?:\[\d+\])?\s*(?:\.\.\.)?\[?(?<peer>[0-9A-Fa-f:.]+?)\]?(?::(?<port>\d+))?\s+(?<name>STATE_[A-Z0-9_]+)""")]
    private static partial Regex StateLine();

    // "…" #1: initiator established IKE SA; authenticated peer using authby=null and ID_NULL 'ID_NULL'
    [GeneratedRegex("""established IKE SA; authenticated peer using (?:authby=)?(?<auth>[A-Za-z0-9_-]+)""")]
    private static partial Regex AuthLine();

    // "…" #3: initiator established IKE SA; authenticated peer '3536-bit RSASSA-PSS with SHA2_512' digital signature using preloaded certificate '10.211.0.2'
    [GeneratedRegex("""established IKE SA; authenticated peer '(?<alg>[^']*)' digital signature using (?<source>preloaded certificate|peer certificate) '(?<id>[^']*)'""")]
    private static partial Regex SignatureAuthLine();

    // "private-or-clear#10.211.0.0/24"[2]:   our auth:null, their auth:RSASIG+RSASIG_v1_5, our autheap:none, their autheap:none;
    [GeneratedRegex("""^"(?<conn>[^"]*)"(?:\[\d+\])?:\s+our auth:[^,]*, their auth:(?<their>[^,;]*)""")]
    private static partial Regex TheirAuthLine();

    // Dec 01 19:25:22 2026, 3536 RSA Key AwEAAeWri (no private key), until --- -- --:--:-- ---- ok (expires never)
    [GeneratedRegex("""\d+ (?<type>RSA|ECDSA) Key (?<keyid>\S+) """)]
    private static partial Regex KeyLine();

    //        ID_IPV4_ADDR '10.211.0.2'
    [GeneratedRegex("""^(?<idtype>ID_[A-Z0-9_]+) '(?<id>[^']*)'$""")]
    private static partial Regex KeyIdLine();
}
