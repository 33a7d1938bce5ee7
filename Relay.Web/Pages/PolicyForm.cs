using System.Text.RegularExpressions;
using Relay.Policy;
using Relay.Policy.Planning;
using Relay.Policy.Networks;

namespace Relay.Web.Pages;

public sealed record FieldError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

public sealed record DestinationPolicyInput(string Destination, string Level, IReadOnlyList<string> Fingerprints, IReadOnlyList<string> MatchNames, string? Note);

/// <summary>
/// Validation of the policy forms; no I/O. Every error names the field it is about. Policy levels are
/// parsed by Relay.Policy (<see cref="PolicyLevelWire"/>), the one owner of that vocabulary.
/// </summary>
public static partial class PolicyForm
{
    public const int MaxNoteLength = 500;
    /// <summary>Far more than any real pin set or name list; a form with more is a mistake or an attack on the table.</summary>
    public const int MaxFingerprints = 20;
    public const int MaxMatchNames = 50;

    public static (DestinationPolicyInput Input, IReadOnlyList<FieldError> Errors) ParseDestination(
        string? destination, string? level, string? fingerprints, string? matchNames, string? note)
    {
        var errors = new List<FieldError>();
        var dest = (destination ?? "").Trim().ToLowerInvariant().TrimEnd('.');
        if (dest.Length == 0)
            errors.Add(new("destination", "is required: a domain such as example.com, or .example.com for its subdomains"));
        else
        {
            // The same rule as `relay policy set`: Relay.Policy owns what a destination is.
            try { dest = DestinationPolicy.NormalizeDestination(dest); }
            catch (FormatException)
            {
                errors.Add(new("destination", "must be a domain such as example.com, .example.com for its subdomains, or a route such as [10.0.0.5]:25"));
            }
        }

        var levelKnown = PolicyLevelWire.TryParse(level, out var parsedLevel);
        var lvl = levelKnown ? parsedLevel.ToWire() : (level ?? "").Trim();
        if (!levelKnown)
            errors.Add(new("level", $"must be one of {string.Join(", ", PolicyLevelWire.AllNames)}"));

        var prints = Split(fingerprints).Select(f => f.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant()).ToList();
        var badPrint = prints.FirstOrDefault(f => !Sha256Hex().IsMatch(f));
        if (prints.Count > MaxFingerprints)
            errors.Add(new("fingerprints", $"are {prints.Count}; at most {MaxFingerprints} are accepted"));
        else if (badPrint is not null)
            errors.Add(new("fingerprints", $"'{badPrint}' is not a SHA-256 digest (64 hex digits)"));
        else if (lvl == "fingerprint" && prints.Count == 0)
            errors.Add(new("fingerprints", "level fingerprint needs at least one SHA-256 digest"));
        else if (lvl != "fingerprint" && prints.Count > 0 && levelKnown)
            errors.Add(new("fingerprints", "are used only with level fingerprint"));

        var names = Split(matchNames).Select(n => n.ToLowerInvariant()).ToList();
        var badName = names.FirstOrDefault(n => !IsDomain(n.StartsWith('.') ? n[1..] : n));
        if (names.Count > MaxMatchNames)
            errors.Add(new("match names", $"are {names.Count}; at most {MaxMatchNames} are accepted"));
        else if (badName is not null)
            errors.Add(new("match names", $"'{badName}' is not a host or domain name"));

        var trimmedNote = string.IsNullOrWhiteSpace(note) ? null : note.Trim();
        if (trimmedNote is { Length: > MaxNoteLength })
            errors.Add(new("note", $"is longer than {MaxNoteLength} characters"));
        return (new DestinationPolicyInput(dest, lvl, prints, names, trimmedNote), errors);
    }

    public static (string Prefix, string Class, IReadOnlyList<FieldError> Errors) ParseIpsec(string? prefix, string? @class)
    {
        var errors = new List<FieldError>();
        var text = (prefix ?? "").Trim();
        if (AddressPrefix.TryParse(text, out var network) is { } problem)
            errors.Add(new("prefix", problem));
        else
            text = network.ToString();
        var cls = (@class ?? "").Trim().ToLowerInvariant();
        if (!Vocabulary.IpsecClasses.Contains(cls))
            errors.Add(new("class", $"must be one of {string.Join(", ", Vocabulary.IpsecClasses)}"));
        return (text, cls, errors);
    }

    private static List<string> Split(string? text) =>
        (text ?? "").Split([' ', ',', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static bool IsDomain(string name) => name.Length is > 0 and <= 253 && DomainName().IsMatch(name);

    [GeneratedRegex("^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex DomainName();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}
