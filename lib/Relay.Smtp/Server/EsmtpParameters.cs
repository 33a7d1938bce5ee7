using System.Globalization;
using Relay.Smtp.Protocol;

namespace Relay.Smtp.Server;

/// <summary>MAIL parameters (RFC 1870 SIZE, 6152 BODY, 3030 BINARYMIME, 6531 SMTPUTF8, 3461 RET/ENVID, 8689 REQUIRETLS, 4954 AUTH).</summary>
public sealed record MailParameters(long? Size = null, string BodyType = "7BIT", bool SmtpUtf8 = false, string? Ret = null,
    string? Envid = null, bool RequireTls = false, string? Auth = null)
{
    public static MailParameters None { get; } = new();
}

/// <summary>RCPT parameters (RFC 3461 NOTIFY, ORCPT), kept in their wire form for the DSN writer.</summary>
public sealed record RcptParameters(string? Notify = null, string? Orcpt = null)
{
    public static RcptParameters None { get; } = new();
}

/// <summary>
/// Parses the <c>esmtp-param</c> list after a path. Unknown keywords get 555 5.5.4 (RFC 5321 §4.1.1.11),
/// malformed or repeated ones 501 5.5.4; nothing unknown is silently accepted.
/// </summary>
public static class EsmtpParameters
{
    public static SmtpReply? ParseMail(string text, out MailParameters parameters)
    {
        parameters = MailParameters.None;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var list = Split(text, out var error);
        if (error is not null) return error;
        foreach (var (key, value) in list)
        {
            if (!seen.Add(key)) return Replies.Syntax($"Error: duplicate parameter {key.ToUpperInvariant()}");
            switch (key.ToUpperInvariant())
            {
                case "SIZE":
                    if (value is null || value.Length > 18 || !value.All(char.IsAsciiDigit)) return Replies.Syntax("Error: bad SIZE value");
                    parameters = parameters with { Size = long.Parse(value, CultureInfo.InvariantCulture) };
                    break;
                case "BODY":
                    var body = value?.ToUpperInvariant();
                    if (body is not ("7BIT" or "8BITMIME" or "BINARYMIME")) return Replies.Syntax("Error: bad BODY value");
                    parameters = parameters with { BodyType = body };
                    break;
                case "SMTPUTF8":
                    if (value is not null) return Replies.Syntax("Error: SMTPUTF8 takes no value");
                    parameters = parameters with { SmtpUtf8 = true };
                    break;
                case "REQUIRETLS":
                    if (value is not null) return Replies.Syntax("Error: REQUIRETLS takes no value");
                    parameters = parameters with { RequireTls = true };
                    break;
                case "RET":
                    var ret = value?.ToUpperInvariant();
                    if (ret is not ("FULL" or "HDRS")) return Replies.Syntax("Error: bad RET value");
                    parameters = parameters with { Ret = ret };
                    break;
                case "ENVID":
                    if (value is null || value.Length > 100 || !Xtext.IsValid(value)) return Replies.Syntax("Error: bad ENVID value");
                    parameters = parameters with { Envid = value };
                    break;
                case "AUTH":
                    if (value is null || !Xtext.IsValid(value)) return Replies.Syntax("Error: bad AUTH value");
                    parameters = parameters with { Auth = value };
                    break;
                default:
                    return new SmtpReply(555, "5.5.4", $"Error: unsupported parameter {Protocol.SmtpReply.Sanitize(key)}");
            }
        }
        return null;
    }

    public static SmtpReply? ParseRcpt(string text, out RcptParameters parameters)
    {
        parameters = RcptParameters.None;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var list = Split(text, out var error);
        if (error is not null) return error;
        foreach (var (key, value) in list)
        {
            if (!seen.Add(key)) return Replies.Syntax($"Error: duplicate parameter {key.ToUpperInvariant()}");
            switch (key.ToUpperInvariant())
            {
                case "NOTIFY":
                    var notify = ParseNotify(value);
                    if (notify is null) return Replies.Syntax("Error: bad NOTIFY value");
                    parameters = parameters with { Notify = notify };
                    break;
                case "ORCPT":
                    var semicolon = value?.IndexOf(';') ?? -1;
                    if (value is null || value.Length > 500 || semicolon <= 0 || !value[..semicolon].All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
                        || !Xtext.IsValid(value[(semicolon + 1)..]))
                        return Replies.Syntax("Error: bad ORCPT value");
                    parameters = parameters with { Orcpt = value };
                    break;
                default:
                    return new SmtpReply(555, "5.5.4", $"Error: unsupported parameter {Protocol.SmtpReply.Sanitize(key)}");
            }
        }
        return null;
    }

    // NEVER alone, or a set of SUCCESS/FAILURE/DELAY; stored upper-case in a fixed order.
    private static string? ParseNotify(string? value)
    {
        if (value is null) return null;
        var words = value.ToUpperInvariant().Split(',');
        if (words.Length == 1 && words[0] == "NEVER") return "NEVER";
        var set = new HashSet<string>();
        foreach (var word in words)
            if (word is not ("SUCCESS" or "FAILURE" or "DELAY") || !set.Add(word)) return null;
        return string.Join(',', new[] { "SUCCESS", "FAILURE", "DELAY" }.Where(set.Contains));
    }

    // esmtp-param = esmtp-keyword ["=" esmtp-value]; keyword = (ALPHA/DIGIT) *(ALPHA/DIGIT/"-"); value has no '=', SP or controls.
    private static List<(string Key, string? Value)> Split(string text, out SmtpReply? error)
    {
        error = null;
        var result = new List<(string, string?)>();
        if (text.Length == 0) return result;
        if (text[0] != ' ') { error = Replies.Syntax("Error: garbage after address"); return result; }
        foreach (var token in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = token.IndexOf('=');
            var key = eq < 0 ? token : token[..eq];
            var value = eq < 0 ? null : token[(eq + 1)..];
            if (key.Length == 0 || !char.IsAsciiLetterOrDigit(key[0]) || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
                || (value is not null && (value.Length == 0 || value.Any(c => c == '=' || c < 33 || c == 127))))
            {
                error = Replies.Syntax("Error: bad parameter syntax");
                return [];
            }
            result.Add((key, value));
        }
        return result;
    }
}
