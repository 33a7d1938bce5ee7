using System.Text;

namespace Relay.Smtp.Protocol;

/// <summary>
/// One SMTP reply: a three-digit code, an RFC 3463 enhanced status code and text lines.
/// Shared by the server and the client side; formatting never lets a line break into the text,
/// so peer-controlled words in a reply cannot inject another reply line.
/// </summary>
public sealed record SmtpReply(int Code, string? Enhanced, IReadOnlyList<string> Lines)
{
    public SmtpReply(int code, string? enhanced, string text) : this(code, enhanced, [text]) { }

    public bool IsPositive => Code is >= 200 and < 400;
    public bool IsTransient => Code is >= 400 and < 500;
    public bool IsPermanent => Code >= 500;

    /// <summary>The reply as it goes on the wire: <c>250-2.0.0 a</c> … <c>250 2.0.0 z</c>, each line CRLF-terminated.</summary>
    public string Format()
    {
        var builder = new StringBuilder();
        var lines = Lines.Count == 0 ? [""] : Lines;
        for (var i = 0; i < lines.Count; i++)
        {
            builder.Append(Code.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
            builder.Append(i == lines.Count - 1 ? ' ' : '-');
            if (Enhanced is not null) builder.Append(Enhanced).Append(' ');
            builder.Append(Sanitize(lines[i]));
            builder.Append("\r\n");
        }
        return builder.ToString();
    }

    public byte[] ToBytes() => Encoding.UTF8.GetBytes(Format());

    public override string ToString() => Format().TrimEnd();

    /// <summary>Control characters (CR, LF, NUL, …) become '?' so a reply is always exactly its lines.</summary>
    public static string Sanitize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text) builder.Append(c < 0x20 || c == 0x7f ? '?' : c);
        return builder.ToString();
    }
}
