using System.CommandLine;
using System.Text.Json;

namespace Relay.Server.Cli;

/// <summary>
/// What the table-editing commands (`relay policy …`, `relay ipsec class …`, `relay ipsec status`) share: the `--json`
/// option, one JSON document or text lines on stdout, and `delete`'s answer with its exit code (1: nothing to delete).
/// </summary>
internal static class TableCommandOutput
{
    public static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON document" };

    /// <summary>With --json the document <paramref name="json"/> writes, else <paramref name="text"/>'s lines.</summary>
    public static async Task WriteAsync(ParseResult parseResult, Option<bool> jsonOption, Action<Utf8JsonWriter> json, IEnumerable<string> text)
    {
        var output = parseResult.InvocationConfiguration.Output;
        if (parseResult.GetValue(jsonOption))
            await output.WriteLineAsync(Json(json)).ConfigureAwait(false);
        else
            foreach (var line in text) await output.WriteLineAsync(line).ConfigureAwait(false);
    }

    /// <summary>`list`: a JSON array of rows, or a line per row, or <paramref name="empty"/> when there is none.</summary>
    public static Task ListAsync<T>(ParseResult parseResult, Option<bool> jsonOption, IReadOnlyList<T> rows, Action<Utf8JsonWriter, T> jsonRow,
        Func<T, string> textRow, string empty) =>
        WriteAsync(parseResult, jsonOption, w =>
        {
            w.WriteStartArray();
            foreach (var row in rows) jsonRow(w, row);
            w.WriteEndArray();
        }, rows.Count == 0 ? [empty] : rows.Select(textRow));

    /// <summary>`delete`: <c>{"<paramref name="keyName"/>": key, "deleted": …}</c> or "key: deleted"; exit 1 when nothing was deleted.</summary>
    public static async Task<int> DeletedAsync(ParseResult parseResult, Option<bool> jsonOption, string keyName, string key, bool deleted, string nothing)
    {
        await WriteAsync(parseResult, jsonOption, w =>
        {
            w.WriteStartObject();
            w.WriteString(keyName, key);
            w.WriteBoolean("deleted", deleted);
            w.WriteEndObject();
        }, [deleted ? $"{key}: deleted" : $"{key}: {nothing}"]).ConfigureAwait(false);
        return deleted ? RelayCli.Ok : RelayCli.Negative;
    }

    public static string Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(w);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
