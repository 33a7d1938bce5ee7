using System.CommandLine;
using System.Text.Json;
using Relay.Db;
using Relay.Policy;
using Relay.Policy.Planning;
using static Relay.Server.Cli.TableCommandOutput;

namespace Relay.Server.Cli;

/// <summary>
/// `relay policy list|set DESTINATION LEVEL [--fingerprint X]… [--match NAME]… [--note TEXT]|delete DESTINATION [--json]`:
/// the explicit per-destination TLS policy table. Values are checked by Relay.Policy's DestinationPolicy
/// before they reach the database (bad level, destination or fingerprint: exit 2 naming the value).
/// `delete` of a destination that has no policy exits 1.
/// </summary>
internal static class PolicyCommand
{
    public static Command Build() => Build(CliContext.ConnectionString);

    public static Command Build(Func<string> connectionString)
    {
        var command = new Command("policy", "Explicit TLS policy per destination (domain, .domain for subdomains, or [route])");
        command.Subcommands.Add(List(connectionString));
        command.Subcommands.Add(Set(connectionString));
        command.Subcommands.Add(Delete(connectionString));
        return command;
    }

    private static Command List(Func<string> connectionString)
    {
        var json = JsonOption();
        var list = new Command("list", "Show every explicit policy") { json };
        list.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var db = await DatabaseConnector.OpenCurrentAsync(connectionString(), cancellationToken).ConfigureAwait(false);
            var rows = await db.Policies.ListAsync(cancellationToken).ConfigureAwait(false);
            await ListAsync(parseResult, json, rows, (w, row) => WriteRow(w, row.Destination, row.Level, row.Fingerprints, row.MatchNames, row.Note, row.UpdatedAt),
                row =>
                {
                    var extra = row.Fingerprints.Count > 0 ? $" fingerprints={string.Join(",", row.Fingerprints)}" : "";
                    extra += row.MatchNames.Count > 0 ? $" match={string.Join(":", row.MatchNames)}" : "";
                    extra += row.Note is { Length: > 0 } note ? $"  # {note}" : "";
                    return $"{row.Destination,-32} {row.Level}{extra}";
                }, "no explicit policies; every destination uses the default (Relay:Policy:Default)").ConfigureAwait(false);
            return RelayCli.Ok;
        });
        return list;
    }

    private static Command Set(Func<string> connectionString)
    {
        var destination = new Argument<string>("DESTINATION") { Description = "example.com, .example.com (its subdomains) or a route such as [10.0.0.5]:25" };
        var level = new Argument<string>("LEVEL") { Description = "none, may, encrypt, dane, dane-only, verify, secure or fingerprint" };
        var fingerprint = new Option<string[]>("--fingerprint")
        {
            Description = "SHA-256 digest of the peer's SubjectPublicKeyInfo or certificate (repeatable; required for fingerprint)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var match = new Option<string[]>("--match") { Description = "extra name accepted for verify/secure (repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var note = new Option<string?>("--note") { Description = "free text shown in list" };
        var json = JsonOption();
        var set = new Command("set", "Create or replace the policy of a destination") { destination, level, fingerprint, match, note, json };
        set.SetAction(async (parseResult, cancellationToken) =>
        {
            DestinationPolicy policy;
            try
            {
                policy = DestinationPolicy.FromWire(parseResult.GetValue(destination) ?? "", parseResult.GetValue(level) ?? "",
                    parseResult.GetValue(fingerprint), parseResult.GetValue(match), parseResult.GetValue(note));
            }
            catch (FormatException e)
            {
                throw new UsageException("policy set: " + e.Message);
            }
            await using var db = await DatabaseConnector.OpenCurrentAsync(connectionString(), cancellationToken).ConfigureAwait(false);
            await db.Policies.SetAsync(policy.Destination, policy.Level.ToWire(), policy.Fingerprints, policy.MatchNames, policy.Note, cancellationToken)
                .ConfigureAwait(false);
            await WriteAsync(parseResult, json, w => WriteRow(w, policy.Destination, policy.Level.ToWire(), policy.Fingerprints, policy.MatchNames, policy.Note, null),
                [$"{policy.Destination}: {policy.Level.ToWire()}"]).ConfigureAwait(false);
            return RelayCli.Ok;
        });
        return set;
    }

    private static Command Delete(Func<string> connectionString)
    {
        var destination = new Argument<string>("DESTINATION") { Description = "the destination as listed" };
        var json = JsonOption();
        var delete = new Command("delete", "Remove a destination's policy; it falls back to the default") { destination, json };
        delete.SetAction(async (parseResult, cancellationToken) =>
        {
            string key;
            try
            {
                key = DestinationPolicy.NormalizeDestination(parseResult.GetValue(destination) ?? "");
            }
            catch (FormatException e)
            {
                throw new UsageException("policy delete: " + e.Message);
            }
            await using var db = await DatabaseConnector.OpenCurrentAsync(connectionString(), cancellationToken).ConfigureAwait(false);
            var deleted = await db.Policies.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            return await DeletedAsync(parseResult, json, "destination", key, deleted, "no explicit policy").ConfigureAwait(false);
        });
        return delete;
    }

    private static void WriteRow(Utf8JsonWriter w, string destination, string level, IReadOnlyList<string> fingerprints,
        IReadOnlyList<string> matchNames, string? note, DateTimeOffset? updated)
    {
        w.WriteStartObject();
        w.WriteString("destination", destination);
        w.WriteString("level", level);
        w.WriteStartArray("fingerprints");
        foreach (var f in fingerprints) w.WriteStringValue(f);
        w.WriteEndArray();
        w.WriteStartArray("matchNames");
        foreach (var m in matchNames) w.WriteStringValue(m);
        w.WriteEndArray();
        if (note is null) w.WriteNull("note"); else w.WriteString("note", note);
        if (updated is { } u) w.WriteString("updated", u.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }
}
