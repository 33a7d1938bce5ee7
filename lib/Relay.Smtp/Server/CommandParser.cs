using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using Relay.Smtp.Protocol;

namespace Relay.Smtp.Server;

/// <summary>
/// Turns one framed command line (terminator already removed) into a command or the reply that
/// rejects it. No I/O. NUL → 500 5.5.2; other control bytes and invalid UTF-8 → 501 5.5.2;
/// non-ASCII is only meaningful inside MAIL/RCPT paths with SMTPUTF8 (RFC 6531), elsewhere 501.
/// </summary>
public static class CommandParser
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <param name="utf8Transaction">The current transaction was opened with MAIL … SMTPUTF8 (lets RCPT carry UTF-8).</param>
    public static CommandParse Parse(ReadOnlySpan<byte> line, bool utf8Transaction = false)
    {
        if (line.IndexOf((byte)0) >= 0) return Replies.NulInCommand;
        var nonAscii = false;
        foreach (var b in line)
        {
            if ((b < 0x20 && b != (byte)'\t') || b == 0x7f) return Replies.BadCharacters;
            if (b >= 0x80) nonAscii = true;
        }
        string text;
        try { text = StrictUtf8.GetString(line); }
        catch (DecoderFallbackException) { return Replies.BadCharacters; }
        text = text.Replace('\t', ' ');

        var space = text.IndexOf(' ');
        var word = space < 0 ? text : text[..space];
        var argument = space < 0 ? "" : text[(space + 1)..];
        if (!TryVerb(word, out var verb)) return nonAscii ? Replies.BadCharacters : Replies.CommandUnrecognized;
        if (nonAscii && verb is not (SmtpVerb.Mail or SmtpVerb.Rcpt)) return Replies.BadCharacters;

        switch (verb)
        {
            case SmtpVerb.Helo:
            case SmtpVerb.Ehlo:
                var domain = argument.Trim();
                if (domain.Length == 0) return Replies.Syntax($"Syntax: {verb.ToString().ToUpperInvariant()} hostname");
                var firstWord = domain.Split(' ')[0];
                return new HeloCommand(verb == SmtpVerb.Ehlo, firstWord);
            case SmtpVerb.Mail:
                return ParseMail(argument, nonAscii);
            case SmtpVerb.Rcpt:
                return ParseRcpt(argument, nonAscii, utf8Transaction);
            case SmtpVerb.Bdat:
                return ParseBdat(argument);
            case SmtpVerb.Auth:
                var parts = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length is 0 or > 2) return Replies.Syntax("Syntax: AUTH mechanism [initial-response]");
                return new AuthCommand(parts[0].ToUpperInvariant(), parts.Length == 2 ? parts[1] : null);
            case SmtpVerb.Data:
            case SmtpVerb.Rset:
            case SmtpVerb.Quit:
            case SmtpVerb.StartTls:
                if (argument.Trim().Length != 0) return Replies.Syntax($"Syntax: {Name(verb)}");
                return new SmtpCommand(verb, "");
            case SmtpVerb.Vrfy:
                if (argument.Trim().Length == 0) return Replies.Syntax("Syntax: VRFY address");
                return new SmtpCommand(verb, argument);
            default:
                return new SmtpCommand(verb, argument);
        }
    }

    public static string Name(SmtpVerb verb) => verb == SmtpVerb.StartTls ? "STARTTLS" : verb.ToString().ToUpperInvariant();

    // Built once: matching each command line against every verb's name made two strings per verb per line.
    private static readonly FrozenDictionary<string, SmtpVerb> Verbs =
        Enum.GetValues<SmtpVerb>().ToFrozenDictionary(Name, v => v, StringComparer.OrdinalIgnoreCase);

    private static bool TryVerb(string word, out SmtpVerb verb) => Verbs.TryGetValue(word, out verb);

    private static CommandParse ParseMail(string argument, bool nonAscii)
    {
        if (!argument.StartsWith("FROM:", StringComparison.OrdinalIgnoreCase)) return Replies.Syntax("Syntax: MAIL FROM:<address>");
        var path = argument[5..].TrimStart(' ');
        // SMTPUTF8 is a parameter after the path, so look for it before judging the path's characters.
        var utf8 = nonAscii && HasKeyword(path, "SMTPUTF8");
        var error = PathParser.TryParse(path, allowNull: true, allowPostmaster: false, utf8, out var sender, out var rest);
        if (error == PathParser.PathError.NonAscii) return Replies.SmtpUtf8Required;
        if (error != PathParser.PathError.None) return Replies.Syntax("Syntax: MAIL FROM:<address>");
        var reply = EsmtpParameters.ParseMail(rest, out var parameters);
        if (reply is not null) return reply;
        return new MailCommand(sender, parameters);
    }

    private static CommandParse ParseRcpt(string argument, bool nonAscii, bool utf8Transaction)
    {
        if (!argument.StartsWith("TO:", StringComparison.OrdinalIgnoreCase)) return Replies.Syntax("Syntax: RCPT TO:<address>");
        var path = argument[3..].TrimStart(' ');
        var error = PathParser.TryParse(path, allowNull: false, allowPostmaster: true, utf8Transaction, out var recipient, out var rest);
        if (error == PathParser.PathError.NonAscii) return Replies.SmtpUtf8Required;
        if (error != PathParser.PathError.None || recipient is null) return Replies.Syntax("Syntax: RCPT TO:<address>");
        if (nonAscii && !utf8Transaction) return Replies.SmtpUtf8Required;
        var reply = EsmtpParameters.ParseRcpt(rest, out var parameters);
        if (reply is not null) return reply;
        return new RcptCommand(recipient, parameters);
    }

    private static CommandParse ParseBdat(string argument)
    {
        var parts = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 2 || parts[0].Length > 18 || !parts[0].All(char.IsAsciiDigit)
            || (parts.Length == 2 && !parts[1].Equals("LAST", StringComparison.OrdinalIgnoreCase)))
            return Replies.Syntax("Syntax: BDAT size [LAST]");
        return new BdatCommand(long.Parse(parts[0], CultureInfo.InvariantCulture), parts.Length == 2);
    }

    private static bool HasKeyword(string path, string keyword)
    {
        var close = path.LastIndexOf('>');
        if (close < 0) return false;
        return path[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Any(p => p.Equals(keyword, StringComparison.OrdinalIgnoreCase));
    }
}
