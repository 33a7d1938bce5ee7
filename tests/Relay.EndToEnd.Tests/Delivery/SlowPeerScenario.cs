using System.Text.RegularExpressions;
using Relay.TestKit.Dns;
using Relay.TestKit.Smtp.Peers;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// The set-up the crash, drain and lease scenarios share: a scripted peer whose end-of-data reply is slow (so a
/// session is always mid-transaction), a fresh queue with <c>count</c> messages routed to it, each carrying a
/// numbered Message-ID, and the environment for `relay serve --roles delivery`. <see cref="Delivered"/> reads
/// back which numbered messages reached the peer, duplicates included.
/// </summary>
internal sealed partial class SlowPeerScenario : IAsyncDisposable
{
    private readonly string run = Guid.NewGuid().ToString("N")[..8];
    private readonly string tag;

    private SlowPeerScenario(string tag, ScriptedSmtpPeer peer, DeliveryQueue queue)
    {
        this.tag = tag;
        Peer = peer;
        Queue = queue;
    }

    public ScriptedSmtpPeer Peer { get; }
    public DeliveryQueue Queue { get; }
    public Dictionary<string, string> Env { get; } = [];
    public int Count { get; private set; }

    public static async Task<SlowPeerScenario> StartAsync(string tag, TimeSpan slowDot, int count, params (string Key, string Value)[] extraEnv)
    {
        var domain = $"{tag}.e2e.test";
        // The peer keeps a message even when the client is gone before the reply, as a real MTA would.
        var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            Name = domain, OfferStartTls = false,
            DataReply = _ => { Thread.Sleep(slowDot); return "250 2.0.0 queued slowly"; },
        }, LoopbackAddress.Random());
        var scenario = new SlowPeerScenario(tag, peer, await DeliveryQueue.CreateAsync($"e2e_dlv_{tag}")) { Count = count };
        scenario.Env["Relay__Database"] = scenario.Queue.ConnectionString;
        scenario.Env["Relay__Hostname"] = "relay.e2e.test";
        scenario.Env["Relay__DataDirectory"] = Directory.CreateTempSubdirectory($"relay-e2e-{tag}-").FullName;
        scenario.Env[$"Relay__Routes__{domain}"] = peer.Route;
        foreach (var (key, value) in extraEnv) scenario.Env[key] = value;
        for (var i = 0; i < count; i++)
            await scenario.Queue.EnqueueAsync($"{tag}@{DeliveryWorldFixture.SenderDomain}", [$"user{i}@{domain}"],
                $"Subject: {tag} {i}\r\nMessage-ID: <{scenario.Marker(i)}@sender.e2e.test>\r\n\r\nmessage {i}\r\n");
        return scenario;
    }

    public string Marker(int i) => $"{tag}-{run}-{i:D2}";

    public IReadOnlyList<string> AllMarkers => Enumerable.Range(0, Count).Select(Marker).ToList();

    /// <summary>The numbered messages the peer received, in arrival order, duplicates included.</summary>
    public IReadOnlyList<string> Delivered => Peer.Messages.Select(m => MessageId().Match(m.Text))
        .Where(m => m.Success && m.Groups[1].Value.StartsWith(tag + "-" + run, StringComparison.Ordinal)).Select(m => m.Groups[1].Value).ToList();

    public Task<long> UndeliveredAsync() => Queue.ScalarAsync("select count(*) from recipients where state <> 'delivered'");

    /// <summary>The numbered messages whose recipient the queue has recorded as delivered.</summary>
    public async Task<IReadOnlySet<string>> RecordedDeliveredAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(Queue.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("select address from recipients where state = 'delivered'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var markers = new HashSet<string>();
        while (await reader.ReadAsync())
            markers.Add(Marker(int.Parse(RecipientNumber().Match(reader.GetString(0)).Groups[1].Value)));
        return markers;
    }

    public async ValueTask DisposeAsync()
    {
        await Queue.DisposeAsync();
        await Peer.DisposeAsync();
    }

    [GeneratedRegex(@"^user(\d+)@")]
    private static partial Regex RecipientNumber();

    [GeneratedRegex(@"Message-ID: <([a-z0-9]+-[0-9a-f]{8}-\d{2})@")]
    private static partial Regex MessageId();
}
