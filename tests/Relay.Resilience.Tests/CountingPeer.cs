using System.Text.RegularExpressions;
using Relay.TestKit.Dns;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Resilience.Tests;

/// <summary>
/// The next hop of the scenarios: TestKit's scripted peer (a real SMTP server on its own loopback address), counting
/// every copy of every numbered message it accepted. It keeps a message once it has read the final dot, even when
/// the client is gone before the reply, as a real MTA would: that is where duplicates come from.
/// </summary>
public sealed partial class CountingPeer : IAsyncDisposable
{
    private CountingPeer(ScriptedSmtpPeer peer) => Peer = peer;

    public ScriptedSmtpPeer Peer { get; }

    public string Route => Peer.Route;

    /// <param name="dotDelay">how long the reply to the final dot takes (widens the window a kill can fall into)</param>
    public static CountingPeer Start(string name, TimeSpan dotDelay, int port = 0) => new(ScriptedSmtpPeer.Start(new PeerScript
    {
        Name = name, OfferStartTls = false,
        DataReply = _ => { if (dotDelay > TimeSpan.Zero) Thread.Sleep(dotDelay); return "250 2.0.0 counted"; },
    }, LoopbackAddress.Random(), port));

    /// <summary>Marker → copies received.</summary>
    public Dictionary<string, int> Copies(string prefix) => Peer.Messages
        .Select(m => MarkerInSubject().Match(m.Text)).Where(m => m.Success && m.Groups[1].Value.StartsWith(prefix, StringComparison.Ordinal))
        .GroupBy(m => m.Groups[1].Value).ToDictionary(g => g.Key, g => g.Count());

    public ValueTask DisposeAsync() => Peer.DisposeAsync();

    [GeneratedRegex(@"Subject: ([a-z]+-[0-9a-f]{8}-\d{6})\r\n")]
    private static partial Regex MarkerInSubject();
}
