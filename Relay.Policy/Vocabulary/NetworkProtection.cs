namespace Relay.Policy;

/// <summary>
/// What the network layer under one attempt really had (DESIGN.md § Security vocabulary, the IPsec OE sidecar). Not
/// ordered against <see cref="TransportSecurity"/>: it is a separate layer, recorded beside the transport.
/// </summary>
public enum NetworkProtection
{
    /// <summary>No IPsec SA carried the attempt; recorded with a reason when protection was tried and not reached.</summary>
    None,
    /// <summary>An ESP SA from IKEv2 with NULL authentication (RFC 7619): encrypted, peer not authenticated.</summary>
    IpsecAnonymous,
    /// <summary>An ESP SA whose peer proved the key of a DNSSEC-secure IPSECKEY record (RFC 4322).</summary>
    IpsecAuthenticated,
    /// <summary>The destination's class is <c>block</c>: no packet may go there.</summary>
    Blocked,
}

/// <summary>Why the network layer is <see cref="NetworkProtection.None"/> (or blocked), in the words stored in network_reason.</summary>
public enum NetworkReason
{
    /// <summary>Relay:Ipsec:Enabled is false: nothing was asked of a sidecar.</summary>
    IpsecDisabled,
    /// <summary>The destination's class is <c>clear</c>: no trigger by policy.</summary>
    ClassClear,
    /// <summary>The destination's class is <c>block</c>.</summary>
    ClassBlock,
    /// <summary>The peer never answered IKE_SA_INIT: no IKE daemon there.</summary>
    PeerNotOeCapable,
    /// <summary>pluto holds a recent failure for this pair (an oe-failing/oe-failed shunt) and does not retry yet.</summary>
    OeFailing,
    /// <summary>The IKE SA came up but the Child SA was refused or could not be installed (cause not visible from here).</summary>
    IkeOnlyChildFailed,
    /// <summary>The kernel refused the ESP SA: no ESP transform (XFRM without ESP).</summary>
    NoKernelEsp,
    /// <summary>No answer within Relay:Ipsec:Timeout.</summary>
    Timeout,
    /// <summary>The control socket could not be reached or pluto gave no usable answer.</summary>
    SidecarUnreachable,
}

/// <summary>RFC 4322 §3.2 classes per destination prefix, libreswan's policy-group names.</summary>
public enum IpsecClass
{
    Clear,
    ClearOrPrivate,
    PrivateOrClear,
    Private,
    Block,
}

public static class NetworkWire
{
    private static readonly string[] Protections = ["none", "ipsec-anonymous", "ipsec-authenticated", "blocked"];

    private static readonly string[] Reasons =
    [
        "ipsec-disabled", "class-clear", "class-block", "peer-not-oe-capable", "oe-failing", "ike-only-child-failed", "no-kernel-esp",
        "timeout", "sidecar-unreachable",
    ];

    private static readonly string[] Classes = ["clear", "clear-or-private", "private-or-clear", "private", "block"];

    /// <summary>The words of each vocabulary, in enum order (for CLI messages and the UI).</summary>
    public static IReadOnlyList<string> ClassNames => Classes;

    public static string ToWire(this NetworkProtection value) => Word(Protections, (int)value, value);

    public static string ToWire(this NetworkReason value) => Word(Reasons, (int)value, value);

    public static string ToWire(this IpsecClass value) => Word(Classes, (int)value, value);

    public static bool TryParseClass(string? text, out IpsecClass value)
    {
        var index = Array.IndexOf(Classes, text?.Trim().ToLowerInvariant());
        value = (IpsecClass)Math.Max(index, 0);
        return index >= 0;
    }

    public static bool TryParseProtection(string? text, out NetworkProtection value)
    {
        var index = Array.IndexOf(Protections, text?.Trim().ToLowerInvariant());
        value = (NetworkProtection)Math.Max(index, 0);
        return index >= 0;
    }

    /// <summary>Classes that trigger IKE before connecting; <c>clear</c> and <c>block</c> decide without the sidecar.</summary>
    public static bool Triggers(this IpsecClass value) => value is IpsecClass.ClearOrPrivate or IpsecClass.PrivateOrClear or IpsecClass.Private;

    private static string Word<T>(string[] names, int index, T value) =>
        index >= 0 && index < names.Length ? names[index] : throw new ArgumentOutOfRangeException(nameof(value), value, null);
}
