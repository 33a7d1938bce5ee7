namespace Relay.Policy.Classification;

/// <summary>
/// What the IPsec sidecar reported for one peer before connecting (a fact, like <see cref="TlsFacts"/>):
/// the destination's class, what protection the network layer had, and why not more.
/// </summary>
/// <param name="Class">The class by longest-prefix match; null when IPsec is disabled (nothing was looked up).</param>
/// <param name="Reason">Why <see cref="Protection"/> is not an IPsec SA; null when it is one.</param>
/// <param name="Detail">What the operator needs beside the reason: pluto's own words, or the IPSECKEY owner and TTL.</param>
public sealed record NetworkFacts(IpsecClass? Class, NetworkProtection Protection, NetworkReason? Reason, string? Detail = null)
{
    public static NetworkFacts Disabled { get; } = new(null, NetworkProtection.None, NetworkReason.IpsecDisabled);

    public bool HasIpsec => Protection is NetworkProtection.IpsecAnonymous or NetworkProtection.IpsecAuthenticated;

    /// <summary>The reason as stored in network_reason: the word, then the detail.</summary>
    public string? ReasonText => Reason is not { } reason ? Detail : Detail is null ? reason.ToWire() : $"{reason.ToWire()}: {Detail}";
}
