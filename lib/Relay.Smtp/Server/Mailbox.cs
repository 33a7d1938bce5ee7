namespace Relay.Smtp.Server;

/// <summary>
/// A mailbox as RFC 5321 §4.1.2 defines it, after any source route was stripped.
/// <see cref="LocalPart"/> is the wire form (quotes kept), so what is stored is what was sent.
/// </summary>
public sealed record Mailbox(string LocalPart, string? Domain, bool QuotedLocalPart, bool AddressLiteral, bool HadSourceRoute)
{
    /// <summary>The unquoted local part: what a quoted string really names (e.g. <c>"a@b"</c> → <c>a@b</c>).</summary>
    public string LocalPartValue => QuotedLocalPart ? Unquote(LocalPart) : LocalPart;

    public bool IsAscii => LocalPart.All(c => c < 0x80) && (Domain?.All(c => c < 0x80) ?? true);

    public override string ToString() => Domain is null ? LocalPart : $"{LocalPart}@{Domain}";

    private static string Unquote(string quoted)
    {
        var inner = quoted[1..^1];
        var builder = new System.Text.StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            if (inner[i] == '\\' && i + 1 < inner.Length) i++;
            builder.Append(inner[i]);
        }
        return builder.ToString();
    }
}
