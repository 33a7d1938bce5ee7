using Relay.Policy;

namespace Relay.Web.Markup;

/// <summary>
/// How security words look. The visible text is always the stored word itself, so a page can never
/// claim more than the database holds; `trusted` and `verified` get different colours and marks
/// because `trusted` was not downgrade-resistant. No transport (null) is an attempt that sent nothing: it says so,
/// and never borrows a colour of any transport.
/// </summary>
public static class Badges
{
    public static SafeHtml Transport(string? word)
    {
        if (word is null) return Html.Raw("<span class=\"badge t-nothing\" title=\"no message was sent in this attempt\">nothing sent</span>");
        // Not a vocabulary word: show it as plain text without any colour that suggests protection.
        if (!TransportSecurityWire.TryParse(word, out var transport)) return Html.Of($"<span class=\"badge t-unknown\">{word}</span>");
        var (title, mark) = transport switch
        {
            TransportSecurity.Verified => ("TLS, peer authenticated through a downgrade-resistant channel", "✔✔ "),
            TransportSecurity.Trusted => ("TLS, peer authenticated, but the choice of peer was not downgrade-resistant", "✔ "),
            TransportSecurity.Encrypted => ("TLS, peer not authenticated", ""),
            _ => ("no TLS", "⚠ "),
        };
        // Raw: every piece is one of the constants above or Policy's own word for the parsed value, never the stored text.
        return Html.Raw($"<span class=\"badge t-{transport.ToWire()}\" title=\"{title}\">{mark}{transport.ToWire()}</span>");
    }

    /// <summary>The row class that marks cleartext (or an unknown word, which claims nothing) for the eye.</summary>
    public static string CleartextRowClass(string? word) =>
        word is not null && (!TransportSecurityWire.TryParse(word, out var t) || t == TransportSecurity.Cleartext) ? $"row-{TransportSecurity.Cleartext.ToWire()}" : "";

    public static SafeHtml Network(string? word) => word switch
    {
        "ipsec-authenticated" => Html.Raw("<span class=\"badge n-auth\">ipsec-authenticated</span>"),
        "ipsec-anonymous" => Html.Raw("<span class=\"badge n-anon\">ipsec-anonymous</span>"),
        "blocked" => Html.Raw("<span class=\"badge n-blocked\">blocked</span>"),
        "none" or null => Html.Raw("<span class=\"badge n-none\">none</span>"),
        _ => Html.Of($"<span class=\"badge t-unknown\">{word}</span>"),
    };

    public static SafeHtml State(string? state) => Html.Of($"<span class=\"badge s-{(Vocabulary.RecipientStates.Contains(state ?? "") ? state : "unknown")}\">{state}</span>");

    public static SafeHtml Dnssec(string? status) => status switch
    {
        "secure" => Html.Raw("<span class=\"badge d-secure\">secure</span>"),
        null => Html.Raw("<span class=\"muted\">—</span>"),
        "bogus" or "error" => Html.Of($"<span class=\"badge d-failing\">{status}</span>"),
        _ => Html.Of($"<span class=\"badge d-insecure\">{status}</span>"),
    };

    /// <summary>DANE status of a peer from its last TLSA lookup: secure TLSA, insecure, or lookup failing.</summary>
    public static SafeHtml Dane(string? tlsaStatus, int recordCount) => tlsaStatus switch
    {
        "secure" when recordCount > 0 => Html.Of($"<span class=\"badge d-secure\">secure TLSA ({recordCount})</span>"),
        "secure" or "secure-empty" => Html.Raw("<span class=\"badge d-insecure\">no TLSA (secure denial)</span>"),
        "insecure" => Html.Raw("<span class=\"badge d-insecure\">insecure</span>"),
        "bogus" or "error" => Html.Of($"<span class=\"badge d-failing\">lookup failing ({tlsaStatus})</span>"),
        "not-queried" => Html.Raw("<span class=\"muted\">not queried</span>"),
        null => Html.Raw("<span class=\"muted\">—</span>"),
        _ => Html.Of($"<span class=\"badge t-unknown\">{tlsaStatus}</span>"),
    };

    public static SafeHtml Time(DateTimeOffset? at) => at is null
        ? Html.Raw("<span class=\"muted\">—</span>")
        : Html.Of($"<time datetime=\"{at.Value.UtcDateTime:O}\">{at.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z</time>");

    public static string Age(TimeSpan age) => age.TotalSeconds < 90 ? $"{(int)age.TotalSeconds} s"
        : age.TotalMinutes < 90 ? $"{(int)age.TotalMinutes} min"
        : age.TotalHours < 48 ? $"{(int)age.TotalHours} h"
        : $"{(int)age.TotalDays} d";
}
