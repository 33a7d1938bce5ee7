namespace Relay.Web.Pages;

/// <summary>Outcome notices after a POST-redirect-GET; the query carries only a key, never text.</summary>
public static class Notices
{
    private static readonly Dictionary<string, string> texts = new(StringComparer.Ordinal)
    {
        ["retried"] = "Every waiting recipient of the message is due now.",
        ["held"] = "The message is held: delivery stops until it is released.",
        ["released"] = "The message is released and due now.",
        ["deleted"] = "The message was deleted.",
        ["bounce-requested"] = "Bounce requested: the next delivery worker sends the DSN and marks the recipients bounced.",
        ["nothing"] = "Nothing changed: no recipient was in a state that action applies to.",
        ["policy-saved"] = "The destination policy was saved.",
        ["policy-deleted"] = "The destination policy was deleted.",
        ["ipsec-saved"] = "The IPsec class was saved.",
        ["ipsec-deleted"] = "The IPsec class was deleted.",
        ["peer-forgotten"] = "The peer's history was forgotten: no downgrade flag or protection until it is seen again.",
    };

    public static string? For(string? key) => key is { Length: > 0 } && texts.TryGetValue(key, out var text) ? text : null;
}
