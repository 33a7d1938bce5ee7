using Microsoft.Extensions.Logging;
using Relay.Db;

namespace Relay.Delivery.Recording;

/// <summary>
/// One structured log line per attempt, in the words the attempt row stores (it is written from that row), so a log
/// search and `relay queue show` never disagree. An attempt that sent nothing says so instead of naming a transport.
/// Both forms name the network layer's outcome and its reason (row.Network, row.NetworkReason; "-" when it has none),
/// because an attempt that sent nothing may have failed at the IPsec sidecar rather than at SMTP.
/// </summary>
internal static class AttemptLog
{
    public static void Write(ILogger logger, string queueIds, AttemptRecord row, IEnumerable<(string Address, string Result, string? Reply)> recipients)
    {
        DeliveryMetrics.Attempt(row);
        var results = string.Join("; ", recipients.Select(r => $"{r.Address} {r.Result}{(r.Reply is null ? "" : $" ({r.Reply})")}"));
        var peer = row.PeerName is null ? "no peer" : $"{row.PeerName}[{row.PeerAddress}]:{row.PeerPort}";
        if (row.Transport is null)
            logger.LogInformation(
                "{QueueId}: attempt to {NextHop} via {Peer} at {Stage}: nothing sent ({Reason}); network {Network} ({NetworkReason}); result {ResultType}; recipients: {Recipients}",
                queueIds, row.NextHop, peer, row.Stage, row.Reason, row.Network, row.NetworkReason ?? "-", row.ResultType ?? "none", results);
        else
            logger.LogInformation(
                "{QueueId}: attempt to {NextHop} via {Peer} at {Stage}: {Transport} how {How} reason {Reason}; tls {TlsVersion} {TlsCipher}; network {Network} ({NetworkReason}); result {ResultType}; recipients: {Recipients}",
                queueIds, row.NextHop, peer, row.Stage, row.Transport, row.How, row.Reason ?? "-", row.TlsVersion ?? "none", row.TlsCipher ?? "-",
                row.Network, row.NetworkReason ?? "-", row.ResultType ?? "none", results);
    }
}
