namespace Relay.Policy;

/// <summary>
/// The `mode` of an MTA-STS policy (RFC 8461 §5): `enforce` lets only matching MX hosts with PKIX-valid TLS carry mail;
/// `testing` delivers as without the policy and only records what enforcement would have refused; `none` withdraws the policy.
/// </summary>
public enum StsMode { None, Testing, Enforce }

public static class StsModeWire
{
    private static readonly string[] Names = ["none", "testing", "enforce"];

    public static string ToWire(this StsMode value) =>
        (int)value >= 0 && (int)value < Names.Length ? Names[(int)value] : throw new ArgumentOutOfRangeException(nameof(value), value, null);

    /// <summary>Case-sensitive, as RFC 8461's ABNF (%s"enforce") requires.</summary>
    public static bool TryParse(string text, out StsMode value)
    {
        var index = Array.IndexOf(Names, text);
        value = index >= 0 ? (StsMode)index : StsMode.None;
        return index >= 0;
    }
}
