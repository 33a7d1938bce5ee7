using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Relay.Server.Configuration;

/// <summary>
/// The checks every command gets before it does anything: each key under Relay: must be a row of
/// <see cref="ConfigSchema"/> (a typo is an error with the nearest known key), and each scalar value must parse
/// and lie in its row's range. Lists, maps and cross-key rules are checked by the readers that build the options.
/// </summary>
public static partial class ConfigValidator
{
    public static void Validate(IConfigurationSection relay)
    {
        foreach (var (path, value) in relay.AsEnumerable(makePathsRelative: true).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            // Sections themselves have no value (or "" for an empty JSON object or array); only leaves are checked.
            if (value is null) continue;
            var fullKey = $"{RelayConfig.Section}:{path}";
            var key = Match(path) ?? throw Unknown(fullKey, path, value);
            if (key.Shape == ValueShape.Single)
                ConfigValues.Check(key, fullKey, value);
        }
    }

    /// <summary>The row a leaf path belongs to: Name, Name:N (a list), Name-prefix:&lt;any&gt; (a map), and so on.</summary>
    public static ConfigKey? Match(string path)
    {
        foreach (var key in ConfigSchema.Keys)
        {
            var placeholder = key.Name.IndexOf(":<", StringComparison.Ordinal);
            if (placeholder < 0)
            {
                if (path.Equals(key.Name, StringComparison.OrdinalIgnoreCase)) return key;
                if (key.Shape == ValueShape.List && path.Length > key.Name.Length + 1
                    && path.StartsWith(key.Name + ":", StringComparison.OrdinalIgnoreCase) && Index().IsMatch(path[(key.Name.Length + 1)..]))
                    return key;
                continue;
            }
            var prefix = key.Name[..(placeholder + 1)];
            if (!path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || path.Length == prefix.Length) continue;
            var rest = path[prefix.Length..].Split(':');
            if (rest.Length == 1 || (key.Shape == ValueShape.MapOfLists && rest.Length == 2 && Index().IsMatch(rest[1])))
                return key;
        }
        return null;
    }

    private static ConfigException Unknown(string fullKey, string path, string value)
    {
        var guess = Nearest(StripIndex(path));
        return new ConfigException(fullKey, value, guess is null
            ? "unknown key (README lists every key)"
            : $"unknown key; did you mean {guess}?");
    }

    /// <summary>The known key closest to a mistyped one, when it is close enough to be a typo.</summary>
    public static string? Nearest(string path)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var key in ConfigSchema.Keys)
        {
            var candidate = key.Name;
            var placeholder = candidate.IndexOf(":<", StringComparison.Ordinal);
            var compared = path;
            if (placeholder >= 0)
            {
                // Compare a map key's prefix with the same number of segments of the typo ("Route:x" against "Routes:<domain>").
                candidate = candidate[..placeholder];
                var segments = candidate.Split(':').Length;
                compared = string.Join(':', path.Split(':').Take(segments));
            }
            var distance = Distance(compared.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance) (best, bestDistance) = ($"{RelayConfig.Section}:{key.Name}", distance);
        }
        return bestDistance <= Math.Max(2, path.Length / 4) ? best : null;
    }

    private static string StripIndex(string path)
    {
        var last = path.LastIndexOf(':');
        return last > 0 && Index().IsMatch(path[(last + 1)..]) ? path[..last] : path;
    }

    /// <summary>Levenshtein distance (insert, delete, substitute), enough for key names of a few dozen characters.</summary>
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex Index();
}
