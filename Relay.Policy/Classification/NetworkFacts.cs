namespace Relay.Policy.Classification;

/// <summary>
/// What the IPsec sidecar reported for one peer before connecting (a fact, like <see cref="TlsFacts"/>):
/// the destination's class, what protection the network layer had, and why not more.
/// </summary>
/// <param name="Class">The class by longest-prefix match; null when IPsec is disabled (nothing was looked up).</param>
/// <param name="Reason">Why <see cref="Protection"/> is not an IPsec SA; null when it is one.</param>
/// <param name="Detail">What the operator needs beside the reason: pluto's own words, or the IPSECKEY owner and TTL.</param>
/// <param name="PeerKey">The DNSSEC-secure IPSECKEY whose key the IKE peer proved (a signature pluto checked against the key
/// Relay loaded); null when the peer proved none. Only with an ESP SA is the protection <c>ipsec-authenticated</c>: an IKE SA
/// alone authenticates a peer that carries no byte of the attempt.</param>
public sealed record NetworkFacts(IpsecClass? Class, NetworkProtection Protection, NetworkReason? Reason, string? Detail = null,
    IpsecPeerKey? PeerKey = null)
{
    public static NetworkFacts Disabled { get; } = new(null, NetworkProtection.None, NetworkReason.IpsecDisabled);

    public bool HasIpsec => Protection is NetworkProtection.IpsecAnonymous or NetworkProtection.IpsecAuthenticated;

    /// <summary>The reason as stored in network_reason: the word, then the detail.</summary>
    public string? ReasonText => Reason is not { } reason ? Detail : Detail is null ? reason.ToWire() : $"{reason.ToWire()}: {Detail}";
}

/// <summary>
/// A peer key Relay took from a DNSSEC-secure IPSECKEY answer (RFC 4025, RFC 4322) and loaded into pluto.
/// </summary>
/// <param name="Owner">The owner name of the IPSECKEY RRset: the MX host name, or the reverse name of the peer's address.</param>
/// <param name="Ttl">The TTL of the secure answer, in seconds.</param>
/// <param name="KeyId">The IKE identity the key was loaded for (the address for a reverse name, @name for a host name).</param>
public sealed record IpsecPeerKey(string Owner, uint Ttl, string KeyId)
{
    public override string ToString() => $"IPSECKEY {Owner} (TTL {Ttl}) for IKE id {KeyId}";
}
