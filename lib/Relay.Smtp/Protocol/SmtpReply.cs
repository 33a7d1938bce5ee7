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

    /// <summary>The same octets as <see cref="Format"/> in UTF-8, written straight into one array: every reply of every
    /// session goes through here, and formatting a string first cost four allocations per reply (bench/README.md).</summary>
    public byte[] ToBytes()
    {
        if (Code is < 100 or > 999) return Encoding.UTF8.GetBytes(Format());
        var lines = Lines.Count == 0 ? [""] : Lines;
        var enhanced = Enhanced is null ? 0 : Encoding.UTF8.GetByteCount(Enhanced) + 1;
        var size = 0;
        for (var i = 0; i < lines.Count; i++) size += 4 + enhanced + Encoding.UTF8.GetByteCount(lines[i]) + 2;
        var bytes = new byte[size];
        var at = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            Code.TryFormat(bytes.AsSpan(at, 3), out _, "D3", System.Globalization.CultureInfo.InvariantCulture);
            bytes[at + 3] = (byte)(i == lines.Count - 1 ? ' ' : '-');
            at += 4;
            if (Enhanced is not null)
            {
                at += Encoding.UTF8.GetBytes(Enhanced, bytes.AsSpan(at));
                bytes[at++] = (byte)' ';
            }
            var text = bytes.AsSpan(at, Encoding.UTF8.GetByteCount(lines[i]));
            Encoding.UTF8.GetBytes(lines[i], text);
            // What Sanitize does to the text: every control octet becomes '?' (UTF-8 continuation octets are all >= 0x80).
            foreach (ref var b in text) if (b < 0x20 || b == 0x7f) b = (byte)'?';
            at += text.Length;
            bytes[at++] = (byte)'\r';
            bytes[at++] = (byte)'\n';
        }
        return bytes;
    }

    public override string ToString() => Format().TrimEnd();

    /// <summary>Control characters (CR, LF, NUL, …) become '?' so a reply is always exactly its lines.</summary>
    public static string Sanitize(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\0', '\x1f') && !text.Contains('\x7f')) return text;
        var builder = new StringBuilder(text.Length);
        foreach (var c in text) builder.Append(c < 0x20 || c == 0x7f ? '?' : c);
        return builder.ToString();
    }
}
