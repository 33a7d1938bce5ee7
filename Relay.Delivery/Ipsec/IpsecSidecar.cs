using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Relay.Dns;
using Relay.Policy;
using Relay.Policy.Classification;

namespace Relay.Delivery.Ipsec;

/// <summary>What `relay ipsec status` shows for one address.</summary>
/// <param name="State">What pluto has towards the address: <c>esp</c>, <c>ike</c> or <c>none</c>.</param>
/// <param name="Ipseckeys">The keys of the peer's DNSSEC-secure IPSECKEY answers, each with whether pluto holds it.</param>
public sealed record IpsecStatus(IpsecClass Class, string State, NetworkFacts Facts, IReadOnlyList<IpseckeyStatus> Ipseckeys);

/// <param name="HeldByPluto">pluto lists a key for this IKE id with the same short key id (the first 9 base64 characters).</param>
public sealed record IpseckeyStatus(IpsecPeerKey Key, bool HeldByPluto);

/// <summary>
/// The client of the libreswan sidecar (pluto sharing Relay's network namespace, reached through its control socket).
/// Per peer: the class by longest prefix; <c>clear</c> and <c>block</c> answer without pluto; the other classes Ensure an
/// ESP SA before connecting — an existing SA answers at once, else an on-demand trigger for tcp/PORT, then the state is
/// read back, because whack's exit code proves nothing. Decisions are cached per peer: briefly after a failure, longer
/// while an SA exists. The class table is reread from the database every <see cref="IpsecOptions.ClassRefresh"/> and,
/// when it changed, written as policy groups and pluto told to reread them, so a UI edit takes effect without a restart.
/// </summary>
/// <param name="localAddress">Our address towards a peer (pluto's --oppohere); by default the kernel's source address for that route.</param>
/// <param name="dns">Where IPSECKEY is looked up (<see cref="IpseckeyLookup"/>); null: no peer is ever authenticated, every SA is anonymous.</param>
public sealed class IpsecSidecar(IpsecOptions options, Func<CancellationToken, Task<IpsecClassTable>> loadClasses, ILogger logger,
    TimeProvider? clock = null, Func<IPAddress, IPAddress>? localAddress = null, IDnsResolver? dns = null) : INetworkLayer
{
    private readonly TimeProvider time = clock ?? TimeProvider.System;
    private readonly WhackRunner whack = new(options.Command, options.ControlSocket);
    private readonly PlutoKeys keys = new(new WhackRunner(options.Command, options.ControlSocket));
    private readonly ConcurrentDictionary<(IPAddress, string?), (NetworkFacts Facts, DateTimeOffset Until)> decisions = new();
    private readonly SemaphoreSlim tableGate = new(1, 1);
    private (IpsecClassTable Table, DateTimeOffset Read)? table;
    private string? writtenGroups;

    /// <summary>How long one status read may take; pluto answers those at once unless it is gone.</summary>
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(2);

    public async Task<NetworkFacts> PrepareAsync(string? peerName, IPAddress peer, int port, CancellationToken cancellationToken)
    {
        if (!options.Enabled) return NetworkFacts.Disabled;
        var classes = await ClassesAsync(cancellationToken).ConfigureAwait(false);
        var (cls, _) = classes.Classify(peer);
        if (cls == IpsecClass.Clear) return new NetworkFacts(cls, NetworkProtection.None, NetworkReason.ClassClear);
        if (cls == IpsecClass.Block) return new NetworkFacts(cls, NetworkProtection.Blocked, NetworkReason.ClassBlock);
        var now = time.GetUtcNow();
        var name = peerName is null ? null : peerName.ToLowerInvariant();
        if (decisions.TryGetValue((peer, name), out var cached) && cached.Until > now && cached.Facts.Class == cls) return cached.Facts;
        var local = (localAddress ?? LocalAddressFor)(peer);
        var facts = await EnsureAsync(cls, local, peer, port, cancellationToken, peerName).ConfigureAwait(false);
        var lifetime = facts.HasIpsec ? options.SuccessLifetime : options.FailureLifetime;
        // A decision resting on an IPSECKEY answer is not believed longer than that answer's TTL.
        if (facts.PeerKey is { } key && TimeSpan.FromSeconds(key.Ttl) < lifetime) lifetime = TimeSpan.FromSeconds(key.Ttl);
        decisions[(peer, name)] = (facts, time.GetUtcNow() + lifetime);
        return facts;
    }

    /// <summary>
    /// Ensure(local, peer, tcp/port, deadline): the ESP SA is there, or why not. Never longer than Relay:Ipsec:Timeout. First
    /// the peer's keys from DNSSEC-secure IPSECKEY answers go into pluto, so the IKE exchange can authenticate it.
    /// </summary>
    /// <param name="peerName">The MX host name (its IPSECKEY is looked up beside the reverse name's); null for an address.</param>
    public async Task<NetworkFacts> EnsureAsync(IpsecClass cls, IPAddress local, IPAddress peer, int port, CancellationToken cancellationToken,
        string? peerName = null)
    {
        var started = time.GetTimestamp();
        TimeSpan Left() => options.Timeout - time.GetElapsedTime(started);

        var (peerKeys, keyNotes) = await LoadPeerKeysAsync(peerName, peer, Left(), cancellationToken).ConfigureAwait(false);
        var traffic = await whack.RunAsync(["--trafficstatus"], Min(StatusTimeout, options.Timeout), cancellationToken).ConfigureAwait(false);
        if (Unreachable(traffic) is { } down) return new NetworkFacts(cls, NetworkProtection.None, NetworkReason.SidecarUnreachable, down);
        var sas = WhackOutput.ParseTraffic(traffic.Output);
        if (sas.Any(s => peer.Equals(s.Peer)))
        {
            var current = await whack.RunAsync(["--status"], StatusTimeout, cancellationToken).ConfigureAwait(false);
            return EnsureDecision.Decide(cls, peer, new EnsureEvidence(null, false, sas, [], WhackOutput.ParseStates(current.Output),
                peerKeys, WhackOutput.ParseTheirAuth(current.Output), keyNotes));
        }

        var trigger = await whack.RunAsync(["--oppohere", local.ToString(), "--oppothere", peer.ToString(), "--oppoproto", "6",
            "--oppodport", port.ToString(CultureInfo.InvariantCulture)], Max(Left(), TimeSpan.FromMilliseconds(100)), cancellationToken).ConfigureAwait(false);
        if (trigger.StartFailure is { } failure) return new NetworkFacts(cls, NetworkProtection.None, NetworkReason.SidecarUnreachable, failure);
        var initiation = WhackOutput.ParseInitiation(trigger.Output);
        logger.LogDebug("ipsec: trigger {Local} -> {Peer}:{Port} exit {Exit} timed out {TimedOut}: {Output}", local, peer, port,
            trigger.ExitCode, trigger.TimedOut, trigger.Output);

        // Read back what pluto has now; a trigger that hit the deadline leaves pluto negotiating, which the state shows.
        var after = await whack.RunAsync(["--trafficstatus"], StatusTimeout, cancellationToken).ConfigureAwait(false);
        var shunts = await whack.RunAsync(["--shuntstatus"], StatusTimeout, cancellationToken).ConfigureAwait(false);
        var status = await whack.RunAsync(["--status"], StatusTimeout, cancellationToken).ConfigureAwait(false);
        if (Unreachable(after) is { } gone) return new NetworkFacts(cls, NetworkProtection.None, NetworkReason.SidecarUnreachable, gone);
        var facts = EnsureDecision.Decide(cls, peer, new EnsureEvidence(initiation, trigger.TimedOut,
            WhackOutput.ParseTraffic(after.Output), WhackOutput.ParseShunts(shunts.Output), WhackOutput.ParseStates(status.Output),
            peerKeys, WhackOutput.ParseTheirAuth(status.Output), keyNotes));
        logger.LogInformation("ipsec: {Peer} class {Class}: {Network} {Reason}", peer, cls.ToWire(), facts.Protection.ToWire(), facts.ReasonText ?? "-");
        return facts;
    }

    /// <summary>IPSECKEY lookups (within what is left of the Ensure deadline) and the secure keys loaded into pluto.</summary>
    private async Task<(IReadOnlyList<IpsecPeerKey> Keys, IReadOnlyList<string> Notes)> LoadPeerKeysAsync(string? peerName, IPAddress peer,
        TimeSpan left, CancellationToken cancellationToken)
    {
        if (dns is null) return ([], []);
        PeerKeyAnswers answers;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(Max(left, TimeSpan.FromMilliseconds(100)));
            try
            {
                answers = await IpseckeyLookup.LookupAsync(dns, peerName, peer, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return ([], ["IPSECKEY lookup did not finish before the deadline"]);
            }
        }
        var (loaded, refused) = await keys.ApplyAsync(answers, cancellationToken).ConfigureAwait(false);
        foreach (var k in loaded) logger.LogDebug("ipsec: {Peer}: loaded the key of {Key}", peer, k.Key);
        return (loaded.Select(k => k.Key).Distinct().ToArray(), [.. answers.Notes, .. refused]);
    }

    /// <summary>
    /// For `relay ipsec status`: the peer's class and what pluto has towards it now (esp, ike or none), without triggering
    /// anything, writing policy groups or loading keys. With a resolver, the peer's DNSSEC-secure IPSECKEY keys are looked up
    /// (reverse name, and <paramref name="peerName"/> when given) and each is shown with whether pluto holds a key of that id
    /// and key id; only those pluto holds count as loaded, so an ESP SA is ipsec-authenticated here only as delivery would see it.
    /// </summary>
    public async Task<IpsecStatus> StatusAsync(IPAddress peer, CancellationToken cancellationToken, string? peerName = null)
    {
        var cls = (await loadClasses(cancellationToken).ConfigureAwait(false)).Classify(peer).Class;
        if (!options.Enabled) return new(cls, "none", NetworkFacts.Disabled with { Class = cls }, []);
        if (cls == IpsecClass.Block) return new(cls, "none", new NetworkFacts(cls, NetworkProtection.Blocked, NetworkReason.ClassBlock), []);
        var traffic = await whack.RunAsync(["--trafficstatus"], StatusTimeout, cancellationToken).ConfigureAwait(false);
        if (Unreachable(traffic) is { } down) return new(cls, "none", new NetworkFacts(cls, NetworkProtection.None, NetworkReason.SidecarUnreachable, down), []);
        var shunts = await whack.RunAsync(["--shuntstatus"], StatusTimeout, cancellationToken).ConfigureAwait(false);
        var status = await whack.RunAsync(["--status"], StatusTimeout, cancellationToken).ConfigureAwait(false);
        var answers = dns is null ? PeerKeyAnswers.None : await IpseckeyLookup.LookupAsync(dns, peerName, peer, cancellationToken).ConfigureAwait(false);
        var held = answers.Keys.Count == 0 ? []
            : WhackOutput.ParsePublicKeys((await whack.RunAsync(["--listpubkeys"], StatusTimeout, cancellationToken).ConfigureAwait(false)).Output);
        var keys = answers.Keys.Select(k => new IpseckeyStatus(k.Key,
            held.Any(h => h.Id == k.Key.KeyId && h.ShortKeyId == WhackOutput.ShortKeyId(k.WhackValue)))).ToArray();
        var evidence = new EnsureEvidence(null, false, WhackOutput.ParseTraffic(traffic.Output), WhackOutput.ParseShunts(shunts.Output),
            WhackOutput.ParseStates(status.Output), keys.Where(k => k.HeldByPluto).Select(k => k.Key).Distinct().ToArray(),
            WhackOutput.ParseTheirAuth(status.Output), answers.Notes);
        var state = evidence.Traffic.Any(t => peer.Equals(t.Peer)) ? "esp"
            : evidence.States.Any(s => peer.Equals(s.Peer) && s.IkeEstablished) ? "ike" : "none";
        if (cls == IpsecClass.Clear && state == "none") return new(cls, state, new NetworkFacts(cls, NetworkProtection.None, NetworkReason.ClassClear), keys);
        if (state == "none" && !evidence.Shunts.Any(s => s.Remote.Contains(peer)))
            return new(cls, state, new NetworkFacts(cls, NetworkProtection.None, null, "nothing negotiated with this peer yet"), keys);
        return new(cls, state, EnsureDecision.Decide(cls, peer, evidence), keys);
    }

    private async Task<IpsecClassTable> ClassesAsync(CancellationToken cancellationToken)
    {
        if (table is { } t && time.GetUtcNow() - t.Read < options.ClassRefresh) return t.Table;
        await tableGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (table is { } again && time.GetUtcNow() - again.Read < options.ClassRefresh) return again.Table;
            var fresh = await loadClasses(cancellationToken).ConfigureAwait(false);
            table = (fresh, time.GetUtcNow());
            await ApplyGroupsAsync(fresh, cancellationToken).ConfigureAwait(false);
            return fresh;
        }
        finally
        {
            tableGate.Release();
        }
    }

    /// <summary>Writes the policy groups when they differ from what this process last wrote, then `whack --listen`.</summary>
    private async Task ApplyGroupsAsync(IpsecClassTable classes, CancellationToken cancellationToken)
    {
        if (options.PolicyDirectory is not { } directory) return;
        var rendered = string.Join("\n", PolicyGroupFiles.Render(classes).Select(f => $"{f.Key}={f.Value}"));
        if (rendered == writtenGroups) return;
        var changed = await PolicyGroupFiles.WriteAsync(directory, classes, cancellationToken).ConfigureAwait(false);
        writtenGroups = rendered;
        // A class change also changes what a cached decision would be: forget them all.
        decisions.Clear();
        if (!changed) return;
        var reload = await whack.RunAsync(["--listen"], StatusTimeout, cancellationToken).ConfigureAwait(false);
        if (Unreachable(reload) is { } why) logger.LogWarning("ipsec: policy groups written to {Directory}, but pluto was not told: {Why}", directory, why);
        else logger.LogInformation("ipsec: policy groups written to {Directory} and reloaded ({Count} prefixes)", directory, classes.Entries.Count);
    }

    /// <summary>The source address the kernel would use towards the peer (a UDP connect sends nothing).</summary>
    public static IPAddress LocalAddressFor(IPAddress peer)
    {
        using var socket = new Socket(peer.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Connect(new IPEndPoint(peer, 9));
            return ((IPEndPoint)socket.LocalEndPoint!).Address;
        }
        catch (SocketException)
        {
            return peer.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        }
    }

    /// <summary>
    /// Does pluto answer on its control socket? One traffic-status request with the short status deadline: null when it
    /// answered, else why not, in the words an attempt records as <c>sidecar-unreachable</c>. For /readyz's detail.
    /// </summary>
    public static async Task<string?> ProbeAsync(IpsecOptions options, CancellationToken cancellationToken)
    {
        var traffic = await new WhackRunner(options.Command, options.ControlSocket).RunAsync(["--trafficstatus"], StatusTimeout, cancellationToken)
            .ConfigureAwait(false);
        return Unreachable(traffic);
    }

    private static string? Unreachable(WhackResult result) =>
        result.StartFailure ?? (result.TimedOut && result.Output.Length == 0 ? "pluto did not answer a status request"
            : WhackOutput.ParseInitiation(result.Output) is { Unreachable: true } u ? u.LastLine : null);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
