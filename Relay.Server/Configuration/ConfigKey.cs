namespace Relay.Server.Configuration;

/// <summary>What a configuration value is; decides the parser the schema checks it with.</summary>
public enum ValueKind
{
    /// <summary>Free text (a name, a header field).</summary>
    Text,
    /// <summary>An Npgsql connection string (checked when the database is opened).</summary>
    ConnectionString,
    /// <summary>A file or directory path (existence is checked where the file is used).</summary>
    Path,
    /// <summary>A host name (RFC 1123 letters, digits, hyphens).</summary>
    Hostname,
    Integer,
    /// <summary>A duration with a unit: 300s, 5m, 2h, 5d, 1w, 250ms, or hh:mm:ss; a bare number is refused.</summary>
    Duration,
    Boolean,
    /// <summary>One of <see cref="ConfigKey.Choices"/>.</summary>
    Choice,
    /// <summary>address:port or [address]:port.</summary>
    Endpoint,
    Domain,
    /// <summary>A network with no host bits set (10.0.0.0/8).</summary>
    Cidr,
    /// <summary>A route next hop: host:port, [address]:port, host or [address].</summary>
    Route,
    /// <summary>A hash made by `relay web hash-password`.</summary>
    PasswordHash,
}

/// <summary>How a key holds values: one value, a list (Key:0, Key:1 or "a,b"), or a map keyed by a name (Key:&lt;name&gt;).</summary>
public enum ValueShape { Single, List, Map, MapOfLists }

/// <summary>
/// One row of <see cref="ConfigSchema"/>: a key under Relay:, its type, its range and its default. Validation, the
/// "did you mean" for unknown keys and README's configuration table all come from these rows.
/// </summary>
public sealed record ConfigKey(string Name, ValueKind Kind, ValueShape Shape, string? Default, string Meaning)
{
    /// <summary>Inclusive bounds of an <see cref="ValueKind.Integer"/>.</summary>
    public long Min { get; init; }
    public long Max { get; init; } = int.MaxValue;

    /// <summary>Inclusive bounds of a <see cref="ValueKind.Duration"/>.</summary>
    public TimeSpan MinDuration { get; init; }
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromDays(365);

    public IReadOnlyList<string> Choices { get; init; } = [];

    /// <summary>The unit a number is counted in (octets, octets/s), for README.</summary>
    public string? Unit { get; init; }

    /// <summary>"Relay:" + the name, as messages and README spell it.</summary>
    public string FullName => $"{RelayConfig.Section}:{Name}";

    /// <summary>The range as README shows it, or null when the kind has none.</summary>
    public string? Range => Kind switch
    {
        ValueKind.Integer => $"{Min}–{Max}{(Unit is null ? "" : " " + Unit)}",
        ValueKind.Duration => $"{ConfigParsers.FormatDuration(MinDuration)}–{ConfigParsers.FormatDuration(MaxDuration)}",
        ValueKind.Choice => string.Join(" \\| ", Choices),
        ValueKind.Boolean => "true \\| false",
        _ => null,
    };
}
