using Relay.Policy;

namespace Relay.Web;

/// <summary>
/// The words of DESIGN.md § Security vocabulary and § Policy levels as the web UI lists them. The ordered
/// enum and the parsing live in Relay.Policy; this only turns them into the lists forms and charts need.
/// </summary>
public static class Vocabulary
{
    /// <summary>Weakest first: the order of <see cref="TransportSecurity"/>.</summary>
    public static readonly IReadOnlyList<string> Transports = Enum.GetValues<TransportSecurity>().Order().Select(t => t.ToWire()).ToArray();

    public static IReadOnlyList<string> PolicyLevels => PolicyLevelWire.AllNames;

    public static readonly IReadOnlyList<string> IpsecClasses = ["clear", "clear-or-private", "private-or-clear", "private", "block"];

    public static readonly IReadOnlyList<string> Networks = ["none", "ipsec-anonymous", "ipsec-authenticated", "blocked"];

    public static readonly IReadOnlyList<string> RecipientStates = ["queued", "deferred", "delivered", "bounced", "held"];

    public static bool IsTransport(string? word) => word is not null && Transports.Contains(word);
}
