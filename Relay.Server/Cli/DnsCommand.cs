using System.CommandLine;
using System.Text.Json;
using Relay.Dns;

namespace Relay.Server.Cli;

/// <summary>
/// `relay dns NAME TYPE [--server ADDR:PORT] [--json]`: one lookup through Relay's own resolver, printed
/// with its security status — what the delivery engine would see, for debugging DANE.
/// JSON (DESIGN.md § Contracts): {"status","rcode","records","ttl"}, plus additive "name", "type",
/// "chain" and, for errors, "reason". Exit codes: 0 an answer (records, NXDOMAIN or NODATA), 1 bogus or
/// error, 2 bad usage (unknown TYPE, bad NAME, bad ADDR:PORT).
/// </summary>
internal static class DnsCommand
{
    /// <summary>Without --server: Relay:Dns:Servers from the configuration (default 127.0.0.1:53), all trusted
    /// for the AD bit as DESIGN.md § Contracts says. A configuration error surfaces as ConfigException (exit 2).</summary>
    public static Command Build() => Build(() =>
        CliContext.Config().DnsServers.Select(e => new DnsServer(e, Trusted: true)).ToArray());

    /// <param name="configuredServers">Reads Relay:Dns:Servers (all trusted for the AD bit). Called only
    /// when --server is absent, so a broken configuration does not stop `relay dns --server …`.</param>
    public static Command Build(Func<IReadOnlyList<DnsServer>> configuredServers)
    {
        var name = new Argument<string>("NAME") { Description = "Domain name to look up, e.g. _25._tcp.mx.example.org" };
        var type = new Argument<string>("TYPE") { Description = "Record type: A, AAAA, MX, TLSA, TXT, CNAME, IPSECKEY, SOA, PTR, NS or TYPEnnn" };
        var server = new Option<string?>("--server")
        {
            Description = "Resolver to ask as ADDR:PORT (or [V6]:PORT); trusted for the AD bit like Relay:Dns:Servers",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("dns", "Look up a DNS record with its DNSSEC status (secure, insecure, bogus, error)")
        {
            name, type, server, json,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            parseResult.GetValue(name) ?? "",
            parseResult.GetValue(type) ?? "",
            parseResult.GetValue(server),
            parseResult.GetValue(json),
            configuredServers,
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    internal static async Task<int> RunAsync(string nameText, string typeText, string? serverText, bool json,
        Func<IReadOnlyList<DnsServer>> configuredServers, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!DnsName.TryNormalize(nameText, out var name))
        {
            await error.WriteLineAsync($"relay dns: '{nameText}' is not a domain name").ConfigureAwait(false);
            return 2;
        }
        if (!DnsTypes.TryParse(typeText, out var type))
        {
            await error.WriteLineAsync($"relay dns: unknown record type '{typeText}'").ConfigureAwait(false);
            return 2;
        }
        IReadOnlyList<DnsServer> servers;
        if (serverText is not null)
        {
            if (!DnsServer.TryParse(serverText, trusted: true, out var one))
            {
                await error.WriteLineAsync($"relay dns: '{serverText}' is not ADDR:PORT").ConfigureAwait(false);
                return 2;
            }
            servers = [one!];
        }
        else
        {
            servers = configuredServers();
            if (servers.Count == 0)
            {
                await error.WriteLineAsync("relay dns: no resolver configured (Relay:Dns:Servers) and no --server").ConfigureAwait(false);
                return 2;
            }
        }

        var resolver = new DnsResolver(servers, new DnsResolverOptions { CacheSize = 0 });
        var result = await resolver.QueryAsync(name, type, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(json ? ToJson(result) + "\n" : ToText(result)).ConfigureAwait(false);
        return result is DnsResult.Bogus or DnsResult.Error ? 1 : 0;
    }

    internal static string ToJson(DnsResult result)
    {
        var (records, ttl) = Parts(result);
        using var stream = new MemoryStream();
        // Relaxed escaping: operators read this ("<name TLSA IN>" in unbound's reasons); it is still valid JSON.
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("status", result.Status);
            if (result is DnsResult.Error { Server: null }) w.WriteNull("rcode"); // nobody answered: there is no rcode
            else w.WriteString("rcode", DnsRcodes.ToText(result.Rcode));
            w.WriteStartArray("records");
            foreach (var r in records) w.WriteStringValue(r);
            w.WriteEndArray();
            w.WriteNumber("ttl", ttl);
            w.WriteString("name", result.Name);
            w.WriteString("type", DnsTypes.ToText(result.Type));
            w.WriteStartArray("chain");
            foreach (var n in result.Chain.Names) w.WriteStringValue(n);
            w.WriteEndArray();
            switch (result)
            {
                case DnsResult.Error e:
                    w.WriteString("reason", e.Reason);
                    break;
                case DnsResult.Bogus { ExtendedErrorCode: { } code } b:
                    w.WriteString("reason", $"EDE {code}{(b.ExtendedErrorText is { } t ? ": " + t : "")}");
                    break;
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string ToText(DnsResult result)
    {
        var (_, ttl) = Parts(result);
        var sb = new System.Text.StringBuilder();
        // As in the JSON: when no server answered there is no rcode to show (NOERROR would be a guess).
        var rcode = result is DnsResult.Error { Server: null } ? "no rcode (no answer)" : DnsRcodes.ToText(result.Rcode);
        sb.Append($";; {result.Name} {DnsTypes.ToText(result.Type)}: {result.Status}, {rcode}, ttl {ttl}");
        if (result.Server is { } s) sb.Append($", from {s.Endpoint}{(result.ViaTcp ? " over TCP" : "")}");
        sb.Append('\n');
        foreach (var link in result.Chain.Links)
            sb.Append($";; CNAME {link.Owner} -> {link.Target} ({(link.Secure ? "secure" : "insecure")})\n");
        switch (result)
        {
            case DnsResult.Secure r: foreach (var rec in r.Records) sb.Append(rec.ToZoneLine()).Append('\n'); break;
            case DnsResult.Insecure r: foreach (var rec in r.Records) sb.Append(rec.ToZoneLine()).Append('\n'); break;
            case DnsResult.NxDomain: sb.Append(";; the name does not exist\n"); break;
            case DnsResult.NoData: sb.Append(";; no records of this type\n"); break;
            case DnsResult.Bogus b:
                sb.Append($";; validation failed{(b.ExtendedErrorCode is { } c ? $" (EDE {c}{(b.ExtendedErrorText is { } t ? ": " + t : "")})" : "")}\n");
                break;
            case DnsResult.Error e: sb.Append($";; error: {e.Reason}\n"); break;
        }
        return sb.ToString();
    }

    private static (IReadOnlyList<string> Records, uint Ttl) Parts(DnsResult result) => result switch
    {
        DnsResult.Secure s => (s.Records.Select(r => r.ToString()).ToArray(), s.Ttl),
        DnsResult.Insecure i => (i.Records.Select(r => r.ToString()).ToArray(), i.Ttl),
        DnsResult.NxDomain n => ([], n.NegativeTtl),
        DnsResult.NoData d => ([], d.NegativeTtl),
        _ => ([], 0),
    };
}
