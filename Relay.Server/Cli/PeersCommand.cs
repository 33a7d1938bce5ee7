using System.CommandLine;
using System.Text.Json;
using Relay.Policy.History;

namespace Relay.Server.Cli;

/// <summary>
/// `relay peers forget PEER [--json]`: drops a peer's recorded history (every address of an MX host name, or every name at
/// an address): its downgrade flag, the STARTTLS and TLS sightings that downgrade protection relies on, and the keys seen.
/// The attempts stay. Exit codes: 0 forgotten, 1 no such peer, 2 a PEER that is not a host name or address.
/// </summary>
public static class PeersCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static Command Build(Func<string> connectionString)
    {
        var peer = new Argument<string>("PEER") { Description = "MX host name or IP address" };
        var json = new Option<bool>("--json") { Description = "print one JSON document" };
        var forget = new Command("forget", "forget a peer's history: clears its downgrade flag and protection; the next delivery goes as the plan says") { peer, json };
        forget.SetAction(async (parse, cancellationToken) =>
        {
            var (name, error) = PeerName.Parse(parse.GetValue(peer));
            if (name is null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"relay: {error}");
                return RelayCli.BadInput;
            }
            await using var db = await DatabaseConnector.OpenCurrentAsync(connectionString(), cancellationToken);
            var removed = await db.Peers.ForgetAsync(name, cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                await output.WriteLineAsync(JsonSerializer.Serialize(new { peer = name, forgotten = removed }, Json));
            else if (removed == 0)
                await parse.InvocationConfiguration.Error.WriteLineAsync($"relay: no recorded peer '{name}'");   // a negative answer, like queue's "no message"
            else
                await output.WriteLineAsync($"relay: forgot {removed} peer record(s) for '{name}'");
            return removed == 0 ? RelayCli.Negative : RelayCli.Ok;
        });
        return new Command("peers", "recorded peer history (downgrade detection)") { forget };
    }
}
