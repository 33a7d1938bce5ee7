using System.Text;

namespace Relay.Server.Configuration;

/// <summary>README's configuration table, made from <see cref="ConfigSchema"/> (a test keeps README equal to it).</summary>
public static class ConfigMarkdown
{
    public const string Begin = "<!-- configuration table: generated from Relay.Server/Configuration/ConfigSchema.cs -->";
    public const string End = "<!-- end of configuration table -->";

    public static string Table()
    {
        var text = new StringBuilder();
        text.AppendLine("| key | type | range | default | meaning |");
        text.AppendLine("| --- | --- | --- | --- | --- |");
        foreach (var key in ConfigSchema.Keys)
        {
            var type = key.Kind switch
            {
                ValueKind.ConnectionString => "connection string",
                ValueKind.PasswordHash => "password hash",
                var kind => kind.ToString().ToLowerInvariant(),
            } + key.Shape switch { ValueShape.List => " list", ValueShape.MapOfLists => " list", _ => "" };
            text.AppendLine($"| `{key.FullName}` | {type} | {key.Range ?? ""} | {(key.Default is null ? "—" : $"`{key.Default}`")} | {key.Meaning} |");
        }
        return text.ToString();
    }
}
