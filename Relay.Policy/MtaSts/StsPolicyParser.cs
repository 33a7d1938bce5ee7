using System.Globalization;

namespace Relay.Policy.MtaSts;

/// <summary>The parser's answer: a policy, or why the document is not one (recorded as `sts-policy-invalid`).</summary>
public abstract record StsPolicyParse
{
    public sealed record Valid(StsPolicy Policy) : StsPolicyParse;
    public sealed record Invalid(string Reason) : StsPolicyParse;
}

/// <summary>
/// RFC 8461 §3.2 policy documents, parsed strictly and with no I/O (the fetcher cuts the body to its limit first).
/// Lines end in LF or CRLF; each is `key: value` with optional blanks after the colon and at the end. `version: STSv1`,
/// `mode` and `max_age` must each appear once, `mx` at least once unless the mode is `none`; field names and values are
/// case-sensitive as the ABNF's %s strings; unknown fields with a well-formed name are ignored (extensions). Anything else
/// (a blank line inside, a control character, a repeated field, max_age beyond a year, an mx pattern that is not a
/// host name or `*.` one) makes the whole policy invalid, because a half-understood policy must not steer delivery.
/// </summary>
public static class StsPolicyParser
{
    public static StsPolicyParse Parse(string document)
    {
        if (document.Length == 0) return new StsPolicyParse.Invalid("empty policy");
        var body = document.EndsWith("\r\n", StringComparison.Ordinal) ? document[..^2] : document.EndsWith('\n') ? document[..^1] : document;
        string? version = null, mode = null, maxAge = null;
        var mx = new List<string>();
        var kept = new List<string>();
        var lineNumber = 0;
        var lines = body.Split('\n');
        foreach (var raw in lines)
        {
            lineNumber++;
            // CRLF ends a line; a CR with no LF after it (the last piece had its line end trimmed) is a stray control character.
            var line = raw.EndsWith('\r') && lineNumber < lines.Length ? raw[..^1] : raw;
            if (line.Any(c => c < 0x20 && c != '\t' || c == 0x7F))
                return Invalid(lineNumber, "control character (a CR is allowed only before LF)");
            kept.Add(line);
            var colon = line.IndexOf(':');
            if (colon <= 0) return Invalid(lineNumber, line.Length == 0 ? "empty line" : "expected 'key: value'");
            var key = line[..colon];
            var value = line[(colon + 1)..].TrimStart(' ', '\t').TrimEnd(' ', '\t');
            if (!IsFieldName(key)) return Invalid(lineNumber, $"'{key}' is not a field name");
            switch (key)
            {
                case "version" when version is not null:
                case "mode" when mode is not null:
                case "max_age" when maxAge is not null:
                    return Invalid(lineNumber, $"'{key}' appears more than once");
                case "version": version = value; break;
                case "mode": mode = value; break;
                case "max_age": maxAge = value; break;
                case "mx":
                    if (!IsMxPattern(value)) return Invalid(lineNumber, $"mx '{value}' is neither a host name nor '*.' and a domain");
                    mx.Add(value.ToLowerInvariant());
                    break;
                default:
                    if (value.Length == 0) return Invalid(lineNumber, $"extension '{key}' has no value");
                    break; // RFC 8461 §3.2: unknown fields are ignored
            }
        }
        if (version is null) return new StsPolicyParse.Invalid("no version field");
        if (version != "STSv1") return new StsPolicyParse.Invalid($"version '{version}' is not STSv1");
        if (mode is null) return new StsPolicyParse.Invalid("no mode field");
        if (!StsModeWire.TryParse(mode, out var parsedMode)) return new StsPolicyParse.Invalid($"mode '{mode}' is not enforce, testing or none");
        if (maxAge is null) return new StsPolicyParse.Invalid("no max_age field");
        if (maxAge.Length is 0 or > 10 || !maxAge.All(char.IsAsciiDigit)
            || !long.TryParse(maxAge, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > StsPolicy.MaxAgeLimitSeconds)
            return new StsPolicyParse.Invalid($"max_age '{maxAge}' is not a number of seconds up to {StsPolicy.MaxAgeLimitSeconds}");
        if (mx.Count == 0 && parsedMode != StsMode.None) return new StsPolicyParse.Invalid($"mode {mode} without any mx");
        return new StsPolicyParse.Valid(new StsPolicy(parsedMode, mx, TimeSpan.FromSeconds(seconds)) { Lines = kept });
    }

    private static StsPolicyParse.Invalid Invalid(int line, string why) => new($"line {line}: {why}");

    /// <summary>sts-policy-ext-name: an alphanumeric, then up to 31 of alphanumerics, '_', '-', '.'.</summary>
    private static bool IsFieldName(string key) =>
        key.Length is >= 1 and <= 32 && char.IsAsciiLetterOrDigit(key[0])
        && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    /// <summary>An LDH host name of at least two labels, optionally behind "*." (the wildcard only as the whole left-most label).</summary>
    public static bool IsMxPattern(string value)
    {
        var name = value.StartsWith("*.", StringComparison.Ordinal) ? value[2..] : value;
        if (name.Length is 0 or > 253) return false;
        var labels = name.Split('.');
        return labels.Length >= 2 && labels.All(l => l.Length is >= 1 and <= 63 && l[0] != '-' && l[^1] != '-'
            && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
    }
}
