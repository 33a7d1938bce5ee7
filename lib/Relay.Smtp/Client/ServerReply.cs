using System.Text;

namespace Relay.Smtp.Client;

/// <summary>
/// One complete reply from an SMTP server (RFC 5321 §4.2): a code and the text of every line. The text
/// is the peer's words: never trusted, kept only for the operator and for DSNs, with control characters
/// replaced so it cannot forge log lines.
/// </summary>
public sealed class ServerReply
{
    public ServerReply(int code, IReadOnlyList<string> lines)
    {
        if (code is < 200 or > 599) throw new ArgumentOutOfRangeException(nameof(code), code, "SMTP reply codes are 2yz to 5yz");
        Code = code;
        Lines = lines.Count == 0 ? [""] : lines.ToArray();
    }

    public int Code { get; }
    public IReadOnlyList<string> Lines { get; }

    public int Class => Code / 100;
    public bool IsPositive => Class is 2 or 3;
    public bool IsTransient => Class == 4;
    public bool IsPermanent => Class == 5;

    /// <summary>The RFC 3463 enhanced status code at the start of the first line, when its class matches the reply's.</summary>
    public string? EnhancedStatus
    {
        get
        {
            var first = Lines[0];
            var space = first.IndexOf(' ');
            var token = space < 0 ? first : first[..space];
            var parts = token.Split('.');
            if (parts.Length != 3 || parts[0] != Class.ToString(System.Globalization.CultureInfo.InvariantCulture)) return null;
            foreach (var part in parts)
                if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit)) return null;
            return token;
        }
    }

    /// <summary>"550 5.1.1 text / more text": one line for the operator, the database and DSNs.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        builder.Append(Code);
        for (var i = 0; i < Lines.Count; i++)
        {
            builder.Append(i == 0 ? " " : " / ");
            builder.Append(Lines[i]);
        }
        return builder.ToString().TrimEnd();
    }

    /// <summary>Peer text → printable: decoded as UTF-8 (replacement on errors), control characters as '?'.</summary>
    internal static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
        });
    }
}
