using System.CommandLine;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Relay.Delivery.Ipsec;
using Relay.Dns;
using Relay.Policy;
using Relay.Policy.Classification;
using Relay.Server.Configuration;
using static Relay.Server.Cli.TableCommandOutput;

namespace Relay.Server.Cli;

/// <summary>
/// `relay ipsec class list|set PREFIX CLASS|delete PREFIX [--json]`: the IPsec OE class per destination prefix (the table
/// the web UI edits; delivery rereads it and rewrites pluto's policy groups). `relay ipsec status ADDRESS [--json]`:
/// the class delivery would apply and what pluto has towards that address now, without triggering anything.
/// Bad prefix, class or address: exit 2 naming the value; `delete` of a prefix without a class exits 1.
/// </summary>
public static class IpsecCommand
{
    public static Command Build() => Build(CliContext.ConnectionString, () => DeliveryOptionsReader.Ipsec(CliContext.Config()),
        () => CliContext.Config().DnsServers is { Count: > 0 } servers ? new DnsResolver(servers.Select(e => new DnsServer(e, Trusted: true)).ToList()) : null);

    /// <param name="dns">Where `status` looks up the peer's IPSECKEY (Relay:Dns:Servers); null: it does not.</param>
    public static Command Build(Func<string> connectionString, Func<IpsecOptions> options, Func<IDnsResolver?>? dns = null)
    {
        var classes = new Command("class", "IPsec OE class per destination prefix: " + string.Join(", ", NetworkWire.ClassNames));
        classes.Subcommands.Add(List(connectionString));
        classes.Subcommands.Add(Set(connectionString));
        classes.Subcommands.Add(Delete(connectionString));
        return new Command("ipsec", "The libreswan OE sidecar: classes per prefix and status per address") { classes, Status(connectionString, options, dns ?? (() => null)) };
    }

    private static Command List(Func<string> connectionString)
    {
        var json = JsonOption();
        var list = new Command("list", "Show every prefix and its class (longest prefix wins; uncovered addresses are clear)") { json };
        list.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var db = await DatabaseConnector.OpenCurrentAsync(connectionString(), cancellationToken).ConfigureAwait(false);
            var rows = await db.Policies.ListIpsecAsync(cancellationToken).ConfigureAwait(false);
            await ListAsync(parseResult, json, rows, (w, row) => Row(w, row.Prefix, row.Class, row.UpdatedAt), row => $"{row.Prefix,-43} {row.Class}",
                "no IPsec classes; every destination is clear").ConfigureAwait(false);
            return RelayCli.Ok;
        });
        return list;
    }

    private static Command Set(Func<string> connectionString)
    {
        var prefix = new Argument<string>("PREFIX") { Description = "192.0.2.0/24, 2001:db8::/32 or one address" };
        var cls = new Argument<string>("CLASS") { Description = string.Join(", ", NetworkWire.ClassNames) };
        var json = JsonOption();
        var set = new Command("set", "Create or replace the class of a prefix") { prefix, cls, json };
        set.SetAction(async (parseResult, cancellationToken) =>
        {
            var network = ParsePrefix("ipsec class set", parseResult.GetValue(prefix));
            var text = parseResult.GetValue(cls);
            if (!NetworkWire.TryParseClass(text, out var value))
                throw new UsageException($"ipsec class set: unknown class '{text}'; expected one of {string.Join(", ", NetworkWire.ClassNames)}");
            await using var db = await DatabaseConnector.OpenCurrentAsync(connectionString(), cancellationToken).ConfigureAwait(false);
            await db.Policies.SetIpsecAsync(network.ToString(), value.ToWire(), cancellationToken).ConfigureAwait(false);
            await WriteAsync(parseResult, json, w => Row(w, network.ToString(), value.ToWire(), null), [$"{network}: {value.ToWire()}"]).ConfigureAwait(false);
            return RelayCli.Ok;
        });
        return set;
    }

    private static Command Delete(Func<string> connectionString)
    {
        var prefix = new Argument<string>("PREFIX") { Description = "the prefix as listed" };
        var json = JsonOption();
        var delete = new Command("delete", "Remove a prefix's class") { prefix, json };
        delete.SetAction(async (parseResult, cancellationToken) =>
        {
            var network = ParsePrefix("ipsec class delete", parseResult.GetValue(prefix));
            await using var db = await DatabaseConnector.OpenCurrentAsync(connectionString(), cancellationToken).ConfigureAwait(false);
            var deleted = await db.Policies.DeleteIpsecAsync(network.ToString(), cancellationToken).ConfigureAwait(false);
            return await DeletedAsync(parseResult, json, "prefix", network.ToString(), deleted, "no class").ConfigureAwait(false);
        });
        return delete;
    }

    private static Command Status(Func<string> connectionString, Func<IpsecOptions> options, Func<IDnsResolver?> dns)
    {
        var address = new Argument<string>("ADDRESS") { Description = "the peer's IPv4 or IPv6 address" };
        var name = new Option<string>("--name") { Description = "the peer's host name (MX): its IPSECKEY is looked up beside the reverse name's" };
        var json = JsonOption();
        var status = new Command("status", "The class and what pluto has towards one address now (nothing is triggered)") { address, name, json };
        status.SetAction(async (parseResult, cancellationToken) =>
        {
            var text = parseResult.GetValue(address);
            if (!IPAddress.TryParse(text?.Trim(), out var peer) || text!.Contains('/'))
                throw new UsageException($"ipsec status: '{text}' is not an IP address");
            var host = parseResult.GetValue(name);
            if (host is not null && !DnsName.TryNormalize(host, out _))
                throw new UsageException($"ipsec status: --name '{host}' is not a host name");
            await using var db = await DatabaseConnector.OpenCurrentAsync(connectionString(), cancellationToken).ConfigureAwait(false);
            var sidecar = new IpsecSidecar(options(), async ct => IpsecClassTable.FromRows(
                (await db.Policies.ListIpsecAsync(ct).ConfigureAwait(false)).Select(r => (r.Prefix, r.Class))), NullLogger.Instance, dns: dns());
            var (cls, state, facts, keys) = await sidecar.StatusAsync(peer, cancellationToken, host).ConfigureAwait(false);
            await WriteAsync(parseResult, json, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("address", peer.ToString());
                    w.WriteString("class", cls.ToWire());
                    w.WriteString("state", state);
                    w.WriteString("network", facts.Protection.ToWire());
                    if (facts.ReasonText is { } reason) w.WriteString("reason", reason); else w.WriteNull("reason");
                    // The IPSECKEY the network outcome rests on (ipsec-authenticated only with an ESP SA), then every secure one found.
                    if (facts is { Protection: NetworkProtection.IpsecAuthenticated, PeerKey: { } proved }) WriteKey(w, "authenticatedBy", proved, held: null); else w.WriteNull("authenticatedBy");
                    w.WriteStartArray("ipseckeys");
                    foreach (var k in keys) WriteKey(w, null, k.Key, k.HeldByPluto);
                    w.WriteEndArray();
                    w.WriteEndObject();
                },
                [$"{peer}: class {cls.ToWire()}, state {state}, network {facts.Protection.ToWire()}" + (facts.ReasonText is { } r ? $" ({r})" : ""),
                 .. keys.Select(k => $"  secure {k.Key}: {(k.HeldByPluto ? "held by pluto" : "not loaded into pluto")}")]).ConfigureAwait(false);
            return RelayCli.Ok;
        });
        return status;
    }

    private static void WriteKey(Utf8JsonWriter w, string? property, IpsecPeerKey key, bool? held)
    {
        if (property is null) w.WriteStartObject(); else w.WriteStartObject(property);
        w.WriteString("owner", key.Owner);
        w.WriteNumber("ttl", key.Ttl);
        w.WriteString("keyId", key.KeyId);
        if (held is { } h) w.WriteBoolean("loaded", h);
        w.WriteEndObject();
    }

    private static IPNetwork ParsePrefix(string command, string? text)
    {
        try { return IpsecPrefix.Parse(text); }
        catch (FormatException e) { throw new UsageException($"{command}: {e.Message}"); }
    }

    private static void Row(Utf8JsonWriter w, string prefix, string cls, DateTimeOffset? updated)
    {
        w.WriteStartObject();
        w.WriteString("prefix", prefix);
        w.WriteString("class", cls);
        if (updated is { } u) w.WriteString("updated", u.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }
}
