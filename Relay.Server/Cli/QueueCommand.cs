using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Relay.Db;
using Relay.Delivery.Bounces;

namespace Relay.Server.Cli;

/// <summary>
/// `relay queue list|show ID|retry ID|hold ID|release ID|delete ID|bounce ID [--json]` (DESIGN.md § Contracts).
/// list --json: an array of {id, sender, recipients, size, received} (+ state, nextAttempt, lastResult);
/// show --json: the message, its recipients with state, and every attempt with peer, address, stage,
/// reply, transport, how, reason, tls {version, cipher, spki}, network. Exit codes: 0 done, 1 unknown id
/// (or nothing to act on), 2 malformed id.
/// </summary>
public static class QueueCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private const int MaxLimit = 100_000;

    /// <param name="connectionString">Read only when a verb runs, so `--help` works without configuration.</param>
    /// <param name="hostname">Reporting-MTA for DSNs of `bounce` (Relay:Hostname); the machine name by default.</param>
    public static Command Build(Func<string> connectionString, Func<string>? hostname = null)
    {
        hostname ??= () => System.Net.Dns.GetHostName();
        var queue = new Command("queue", "List and act on queued messages");
        var json = new Option<bool>("--json") { Description = "Print one JSON document", Recursive = true };
        queue.Options.Add(json);

        var list = new Command("list", "Messages in the queue, newest first");
        var limit = new Option<int>("--limit") { Description = $"At most this many messages (1-{MaxLimit})", DefaultValueFactory = _ => 100 };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > MaxLimit)
                result.AddError($"--limit {result.GetValueOrDefault<int>()}: expected 1 to {MaxLimit}");
        });
        list.Options.Add(limit);
        list.SetAction(async (parse, ct) =>
        {
            await using var db = await DatabaseConnector.OpenCurrentAsync(connectionString(), ct);
            var rows = await db.QueueReader.ListMessagesAsync(new Page(0, parse.GetValue(limit)), ct);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(rows.Select(m => new
                {
                    id = m.QueueId, sender = m.Sender, recipients = m.Recipients, size = m.Size, received = Iso(m.Received),
                    state = m.State, nextAttempt = m.NextAttempt is { } n ? Iso(n) : null, lastResult = m.LastResult,
                }), Json));
                return 0;
            }
            foreach (var m in rows)
                await output.WriteLineAsync($"{m.QueueId}  {Iso(m.Received)}  {m.Size,8}  {m.State,-9}  <{m.Sender}> -> {string.Join(", ", m.Recipients)}");
            return 0;
        });
        queue.Subcommands.Add(list);

        var show = WithId("show", "A message, its recipients and every delivery attempt", async (db, id, parse, ct) =>
        {
            var m = await db.QueueReader.GetMessageAsync(id, ct);
            if (m is null) return null;
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(ShowDocument(m), Json));
                return 0;
            }
            await output.WriteLineAsync($"{m.QueueId}  <{m.Sender}>  {m.Size} bytes  received {Iso(m.Received)} from {m.ClientAddress} ({m.Inbound.Transport})");
            foreach (var r in m.Recipients)
                await output.WriteLineAsync($"  {r.Address}: {r.State} after {r.Attempts} attempt(s); {r.LastResult}");
            foreach (var a in m.Attempts)
                await output.WriteLineAsync($"  attempt {Iso(a.StartedAt)} {a.Peer}[{a.Address}] {a.Transport ?? "nothing sent"}{(a.Reason is null ? "" : $" ({a.Reason})")} " +
                    $"{a.TlsVersion} at {a.Stage}: {a.Reply}");
            return 0;
        });
        queue.Subcommands.Add(show);

        queue.Subcommands.Add(Action("retry", "Make every waiting recipient due now", (db, id, ct) => db.Admin.RetryAsync(id, ct), json));
        queue.Subcommands.Add(Action("hold", "Stop delivery of every waiting recipient", (db, id, ct) => db.Admin.HoldAsync(id, ct), json));
        queue.Subcommands.Add(Action("release", "Release held recipients for delivery now", (db, id, ct) => db.Admin.ReleaseAsync(id, ct), json));
        queue.Subcommands.Add(Action("delete", "Remove the message and its history", async (db, id, ct) => await db.Admin.DeleteAsync(id, ct) ? 1 : 0, json));
        queue.Subcommands.Add(WithId("bounce", "Give up on every waiting recipient and send the sender a DSN", async (db, id, parse, ct) =>
        {
            var result = await OperatorBounce.BounceAsync(db, hostname(), id, ct);
            if (result is null) return null;
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                await output.WriteLineAsync(JsonSerializer.Serialize(new { id, bounced = result.Bounced, dsn = result.DsnQueueId }, Json));
            else
                await output.WriteLineAsync($"{id}: {result.Bounced} recipient(s) bounced{(result.DsnQueueId is { } d ? $", DSN queued as {d}" : "")}");
            return result.Bounced > 0 ? 0 : 1;
        }, connectionString));
        return queue;

        Command WithId(string name, string description, Func<RelayDatabase, string, ParseResult, CancellationToken, Task<int?>> run,
            Func<string>? cs = null) => IdCommand(name, description, run, cs ?? connectionString);

        Command Action(string name, string description, Func<RelayDatabase, string, CancellationToken, Task<int>> act, Option<bool> jsonOption) =>
            IdCommand(name, description, async (db, id, parse, ct) =>
            {
                if (await db.QueueReader.GetMessageAsync(id, ct) is null) return null;
                var changed = await act(db, id, ct);
                var output = parse.InvocationConfiguration.Output;
                if (parse.GetValue(jsonOption))
                    await output.WriteLineAsync(JsonSerializer.Serialize(new { id, action = name, changed }, Json));
                else if (name == "delete")
                    await output.WriteLineAsync($"{id}: deleted");   // the message and its history, not a count of recipients
                else
                    await output.WriteLineAsync($"{id}: {name}: {changed} recipient(s) changed");
                return changed > 0 ? 0 : 1;
            }, connectionString);
    }

    private static Command IdCommand(string name, string description, Func<RelayDatabase, string, ParseResult, CancellationToken, Task<int?>> run,
        Func<string> connectionString)
    {
        var id = new Argument<string>("ID") { Description = "Queue id (16 characters, as `relay queue list` shows)" };
        var command = new Command(name, description) { id };
        command.SetAction(async (parse, ct) =>
        {
            var text = (parse.GetValue(id) ?? "").Trim().ToUpperInvariant();
            if (!QueueId.IsWellFormed(text))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"relay queue {name}: '{parse.GetValue(id)}' is not a queue id");
                return 2;
            }
            await using var db = await DatabaseConnector.OpenCurrentAsync(connectionString(), ct);
            var result = await run(db, text, parse, ct);
            if (result is null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"relay queue {name}: no message {text}");
                return 1;
            }
            return result.Value;
        });
        return command;
    }

    internal static object ShowDocument(MessageDetail m) => new
    {
        id = m.QueueId,
        sender = m.Sender,
        size = m.Size,
        received = Iso(m.Received),
        bodyType = m.BodyType,
        smtputf8 = m.SmtpUtf8,
        requiretls = m.RequireTls,
        client = new
        {
            address = m.ClientAddress, helo = m.ClientHelo, auth = m.ClientAuth, transport = m.Inbound.Transport,
            tls = m.Inbound.TlsVersion is null ? null : new { version = m.Inbound.TlsVersion, cipher = m.Inbound.TlsCipher, spki = m.Inbound.ClientSpki },
        },
        recipients = m.Recipients.Select(r => new
        {
            address = r.Address, state = r.State, attempts = r.Attempts, nextAttempt = Iso(r.NextAttempt), lastResult = r.LastResult,
            notify = r.DsnNotify, orcpt = r.DsnOrcpt,
        }),
        attempts = m.Attempts.Select(a => new
        {
            started = Iso(a.StartedAt), durationMs = a.DurationMs, nextHop = a.NextHop, peer = a.Peer, address = a.Address, port = a.Port,
            stage = a.Stage, reply = a.Reply, policy = a.PolicyLevel, transport = a.Transport, how = a.How, reason = a.Reason,
            tls = a.TlsVersion is null ? null : new { version = a.TlsVersion, cipher = a.TlsCipher, spki = a.Spki },
            certificate = a.CertSubject, tlsa = a.Tlsa, tlsaStatus = a.TlsaStatus, mxDnssec = a.MxDnssec, addressDnssec = a.AddressDnssec,
            network = a.Network, networkReason = a.NetworkReason, resultType = a.ResultType,
            downgrade = a.Downgrade, downgradeReason = a.DowngradeReason, keyChanged = a.KeyChanged,
            recipients = a.Recipients.Select(r => new { address = r.Address, result = r.Result, reply = r.Reply }),
        }),
    };

    private static string Iso(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
