using System.Text;

namespace Relay.Delivery.Bounces;

/// <summary>
/// The text of RFC 3464 / RFC 6533 delivery-status fields. In a message/delivery-status part every field is
/// ASCII, so a UTF-8 address is written as utf-8-addr-xtext (RFC 6533 §3, "\x{HEX}"); in a
/// message/global-delivery-status part it is written as UTF-8 itself. Control characters a peer put in its
/// reply never reach the report (they could rewrite an operator's terminal); other non-ASCII text is kept.
/// </summary>
public static class DsnFields
{
    /// <summary>"rfc822; addr" for an ASCII address, else "utf-8; addr" in the form the part allows.</summary>
    public static string Address(string address, bool global)
    {
        var clean = WithoutControls(address);
        if (clean.All(char.IsAscii)) return "rfc822; " + clean;
        return "utf-8; " + (global ? clean : EmbeddedUnicode(clean));
    }

    /// <summary>The Original-Recipient as the client gave it in ORCPT (already "type; xtext", RFC 3461 §4.2).</summary>
    public static string OriginalRecipient(string orcpt)
    {
        var clean = WithoutControls(orcpt).Trim();
        var semicolon = clean.IndexOf(';');
        return semicolon < 0 ? "rfc822; " + clean : clean[..semicolon].Trim() + "; " + clean[(semicolon + 1)..].Trim();
    }

    /// <summary>Free text (a peer's reply, our reason): control characters become spaces, line breaks included.</summary>
    public static string WithoutControls(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
        });

    /// <summary>RFC 6533 §3 embedded-unicode: every non-ASCII scalar as \x{HEX}; a backslash itself as \x{5C}.</summary>
    public static string EmbeddedUnicode(string text)
    {
        var result = new StringBuilder(text.Length + 16);
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value is < 0x80 and not '\\' and not '+' and not '=') result.Append((char)rune.Value);
            else result.Append("\\x{").Append(rune.Value.ToString("X")).Append('}');
        }
        return result.ToString();
    }
}
