using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Relay.Server.Configuration;

/// <summary>Standard .NET configuration: a JSON file (--config, else relay.json when present) overridden by
/// environment variables (Relay__Smtp__Listen__0=…).</summary>
public static class ConfigLoader
{
    public const string DefaultFile = "relay.json";

    public static RelayConfig Load(string? configPath)
    {
        var builder = new ConfigurationBuilder();
        if (configPath is not null)
        {
            var full = Path.GetFullPath(configPath);
            if (!File.Exists(full))
                throw new ConfigException("--config", configPath, "file not found");
            AddJson(builder, "--config", full);
        }
        else if (File.Exists(DefaultFile))
        {
            AddJson(builder, DefaultFile, Path.GetFullPath(DefaultFile));
        }
        builder.AddEnvironmentVariables();
        return RelayConfig.From(builder.Build());
    }

    private static void AddJson(ConfigurationBuilder builder, string key, string path)
    {
        try
        {
            // Parse once ourselves: the configuration provider's own error does not name the file clearly.
            using var _ = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ConfigException(key, path, $"not valid JSON: {e.Message}");
        }
        builder.AddJsonFile(path, optional: false, reloadOnChange: false);
    }
}
