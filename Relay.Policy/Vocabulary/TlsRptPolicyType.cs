namespace Relay.Policy;

/// <summary>
/// RFC 8460 §4.4 `policy-type`: which policy applied to a session with a recipient domain's MX. `tlsa`: DANE (a
/// DNSSEC-secure TLSA RRset, or one that failed validation); `sts`: an MTA-STS policy in `enforce` or `testing` mode;
/// `no-policy-found`: neither, the session was opportunistic (or followed an explicit local policy, which the RFC has no type for).
/// </summary>
public enum TlsRptPolicyType { Tlsa, Sts, NoPolicyFound }

public static class TlsRptPolicyTypeWire
{
    private static readonly string[] Names = ["tlsa", "sts", "no-policy-found"];

    public static string ToWire(this TlsRptPolicyType value) =>
        (int)value >= 0 && (int)value < Names.Length ? Names[(int)value] : throw new ArgumentOutOfRangeException(nameof(value), value, null);

    public static TlsRptPolicyType Parse(string? text)
    {
        var index = Array.IndexOf(Names, text);
        return index >= 0 ? (TlsRptPolicyType)index : throw new FormatException($"unknown TLS-RPT policy type '{text}'; expected one of {string.Join(", ", Names)}");
    }
}
