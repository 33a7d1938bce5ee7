using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Relay.Server.Configuration;

/// <summary>
/// Typed reads of Relay: keys, with the type, range and default of their <see cref="ConfigSchema"/> row, so a reader
/// cannot disagree with the table (or with README, which a test checks against it).
/// </summary>
public static class ConfigValues
{
    public static int Integer(IConfiguration relay, string name)
    {
        var key = Require(name, ValueKind.Integer);
        var text = relay[name];
        if (string.IsNullOrWhiteSpace(text)) text = key.Default!;
        if (!long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) || number < key.Min || number > key.Max)
            throw new ConfigException(key.FullName, text, $"expected a whole number from {key.Min} to {key.Max}{(key.Unit is null ? "" : " (" + key.Unit + ")")}");
        return (int)number;
    }

    public static TimeSpan Duration(IConfiguration relay, string name) =>
        OptionalDuration(relay, name) ?? throw new InvalidOperationException($"Relay:{name} has no default");

    /// <summary>The value, else the default; null when neither is set (an optional feature that is off).</summary>
    public static TimeSpan? OptionalDuration(IConfiguration relay, string name)
    {
        var key = Require(name, ValueKind.Duration);
        var text = relay[name];
        if (string.IsNullOrWhiteSpace(text)) text = key.Default;
        return text is null ? null : ConfigParsers.Duration(key.FullName, text, key.MinDuration, key.MaxDuration);
    }

    public static bool Boolean(IConfiguration relay, string name)
    {
        var key = Require(name, ValueKind.Boolean);
        var text = relay[name];
        if (string.IsNullOrWhiteSpace(text)) text = key.Default!;
        return bool.TryParse(text.Trim(), out var value) ? value : throw new ConfigException(key.FullName, text, "expected true or false");
    }

    public static string Choice(IConfiguration relay, string name)
    {
        var key = Require(name, ValueKind.Choice);
        var text = relay[name];
        if (string.IsNullOrWhiteSpace(text)) return key.Default!;
        var normalized = text.Trim().ToLowerInvariant();
        return key.Choices.Contains(normalized) ? normalized
            : throw new ConfigException(key.FullName, text, $"expected {string.Join(" or ", key.Choices)}");
    }

    /// <summary>Checks one leaf value against its row (the kinds with a syntax of their own).</summary>
    internal static void Check(ConfigKey key, string fullKey, string value)
    {
        if (value.Length == 0) return;
        switch (key.Kind)
        {
            case ValueKind.Integer: Integer(Single(key.Name, value), key.Name); break;
            case ValueKind.Duration: ConfigParsers.Duration(fullKey, value, key.MinDuration, key.MaxDuration); break;
            case ValueKind.Boolean: Boolean(Single(key.Name, value), key.Name); break;
            case ValueKind.Choice: Choice(Single(key.Name, value), key.Name); break;
            case ValueKind.Endpoint when key.Shape == ValueShape.Single: ConfigParsers.EndPoint(fullKey, value.Trim()); break;
            case ValueKind.Hostname: ConfigParsers.Domain(fullKey, value.Trim()); break;
        }
    }

    private static IConfiguration Single(string name, string value) =>
        new ConfigurationBuilder().AddInMemoryCollection([new KeyValuePair<string, string?>(name, value)]).Build();

    private static ConfigKey Require(string name, ValueKind kind)
    {
        var key = ConfigSchema.Get(name);
        return key.Kind == kind ? key : throw new InvalidOperationException($"Relay:{name} is a {key.Kind}, read as {kind}");
    }
}
