namespace Relay.Server.Configuration;

/// <summary>Bad configuration: names the key and the value so the operator can fix it in one go (exit 2).</summary>
public sealed class ConfigException(string key, string? value, string problem)
    : Exception(value is null ? $"{key}: {problem}" : $"{key} = \"{value}\": {problem}")
{
    public string Key { get; } = key;
    public string? Value { get; } = value;
}
