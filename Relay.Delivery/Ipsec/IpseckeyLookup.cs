using System.Net;
using Relay.Dns;
using Relay.Policy.Classification;

namespace Relay.Delivery.Ipsec;

/// <summary>One key to load into pluto: what is recorded about it, and the whack option and value that load it.</summary>
/// <param name="WhackOption"><c>--pubkeyrsa</c> (IPSECKEY algorithm 2) or <c>--pubkeyecdsa</c> (3).</param>
/// <param name="WhackValue">The key in whack's base64 form, <c>0s…</c> (RFC 3110 / RFC 8005 wire bytes).</param>
public sealed record LoadableKey(IpsecPeerKey Key, string WhackOption, string WhackValue);

/// <summary>What the IPSECKEY lookups for one peer gave: the keys that may be loaded, a note per answer that gave none,
/// and every IKE id asked about (a key loaded earlier for one of them that no answer gives now must go).</summary>
public sealed record PeerKeyAnswers(IReadOnlyList<LoadableKey> Keys, IReadOnlyList<string> Notes, IReadOnlyList<string> KeyIds)
{
    public static PeerKeyAnswers None { get; } = new([], [], []);
}

/// <summary>
/// IPSECKEY for a peer (RFC 4322 §3.4: the reverse name of its address; and, as Relay also knows it, the MX host name),
/// through Relay.Dns. Only a DNSSEC-secure answer gives a key: an insecure answer could have been forged by anyone on the
/// path, a bogus one was, so neither is ever loaded (each leaves a note saying why not). Of a secure RRset, records whose
/// gateway is another host are skipped (Relay protects its own connection, host to host: no gateway, or the peer itself),
/// as are algorithms pluto cannot take (DSA, none); the rest load in precedence order.
/// </summary>
public static class IpseckeyLookup
{
    public static async Task<PeerKeyAnswers> LookupAsync(IDnsResolver dns, string? hostName, IPAddress peer, CancellationToken cancellationToken)
    {
        var reverse = DnsName.Reverse(peer);
        var host = hostName is not null && DnsName.TryNormalize(hostName, out var n) && !IPAddress.TryParse(hostName.Trim('[', ']', '.'), out _) ? n : null;
        var reverseTask = dns.QueryAsync(reverse, DnsType.IPSECKEY, cancellationToken);
        var hostTask = host is null ? null : dns.QueryAsync(host, DnsType.IPSECKEY, cancellationToken);
        var answers = new List<(DnsResult Result, string KeyId)> { (await reverseTask.ConfigureAwait(false), peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4().ToString() : peer.ToString()) };
        if (hostTask is not null) answers.Add((await hostTask.ConfigureAwait(false), "@" + host!.TrimEnd('.')));
        var keys = new List<LoadableKey>();
        var notes = new List<string>();
        foreach (var (result, keyId) in answers) Select(result, keyId, peer, host, keys, notes);
        return new PeerKeyAnswers(keys, notes, answers.Select(a => a.KeyId).ToArray());
    }

    /// <summary>The keys one answer may give (pure): none unless it is secure.</summary>
    public static void Select(DnsResult result, string keyId, IPAddress peer, string? hostName, List<LoadableKey> keys, List<string> notes)
    {
        switch (result)
        {
            case DnsResult.Secure secure:
                var usable = 0;
                foreach (var record in secure.Records.OfType<IpseckeyRecord>().OrderBy(r => r.Precedence))
                {
                    if (!GatewayIsPeer(record, peer, hostName)) continue;
                    var option = record.Algorithm switch { 2 => "--pubkeyrsa", 3 => "--pubkeyecdsa", _ => null };
                    if (option is null || record.PublicKey.Length == 0) continue;
                    keys.Add(new LoadableKey(new IpsecPeerKey(result.Name, secure.Ttl, keyId), option, "0s" + Convert.ToBase64String(record.PublicKey)));
                    usable++;
                }
                if (usable == 0) notes.Add($"IPSECKEY {result.Name} secure, but no record for this host with an RSA or ECDSA key");
                break;
            case DnsResult.Insecure:
                notes.Add($"IPSECKEY {result.Name} insecure (not DNSSEC-validated): not used");
                break;
            case DnsResult.Bogus:
                notes.Add($"IPSECKEY {result.Name} bogus (DNSSEC validation failed): not used");
                break;
            case DnsResult.Error e:
                notes.Add($"IPSECKEY {result.Name}: lookup failed ({e.Kind})");
                break;
            // NXDOMAIN and NODATA: the peer publishes no key there, nothing to say.
        }
    }

    private static bool GatewayIsPeer(IpseckeyRecord record, IPAddress peer, string? hostName) => record.GatewayType switch
    {
        IpseckeyGatewayType.None => true,
        IpseckeyGatewayType.IPv4 or IpseckeyGatewayType.IPv6 => record.GatewayAddress!.Equals(peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer),
        IpseckeyGatewayType.Name => hostName is not null && DnsName.Equal(record.GatewayName, hostName),
        _ => false,
    };
}
