using System.CommandLine;
using System.Text.Json;

namespace Relay.Server.Cli;

/// <summary>`relay peers forget PEER [--json]`: drops a peer's recorded history (downgrade memory).</summary>
internal static class PeersCommand
{
    public static Command Build()
    {
        var peer = new Argument<string>("PEER") { Description = "MX host name or address" };
        var json = new Option<bool>("--json") { Description = "print one JSON document" };
        var forget = new Command("forget", "forget a peer's history so it is no longer flagged as downgraded") { peer, json };
        forget.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(peer)!.Trim();
            if (name.Length == 0 || name.Length > 255 || name.Any(char.IsControl))
                throw new UsageException($"PEER '{name}' is not a host name or address");
            await using var db = await DatabaseConnector.OpenCurrentAsync(CliContext.ConnectionString(), cancellationToken);
            var removed = await db.Peers.ForgetAsync(name, cancellationToken);
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { peer = name, forgotten = removed }));
            else if (removed == 0)
                await Console.Error.WriteLineAsync($"relay: no recorded peer '{name}'");   // a negative answer, like queue's "no message"
            else
                Console.WriteLine($"relay: forgot {removed} peer record(s) for '{name}'");
            return removed == 0 ? RelayCli.Negative : RelayCli.Ok;
        });
        return new Command("peers", "recorded peer history") { forget };
    }
}
