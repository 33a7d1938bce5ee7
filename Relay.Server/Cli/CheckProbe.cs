using Relay.Delivery;
using Relay.Delivery.Planning;
using Relay.Delivery.Sessions;
using Relay.Dns;

namespace Relay.Server.Cli;

/// <summary>What one session with one peer really achieved, for `relay check`.</summary>
internal sealed record ProbeResult(string Name, string Address, int Port, string? Transport, string? How, string? Reason,
    string? TlsVersion, string? TlsCipher, string? Spki, string? Error);

/// <summary>
/// Opens a session to each peer of a destination with delivery's own planner, session opener and certificate
/// judge, so `relay check` reports exactly what delivery would record, then QUITs without sending mail.
/// </summary>
internal static class CheckProbe
{
    public static async Task<IReadOnlyList<ProbeResult>> RunAsync(Configuration.RelayConfig config, IDnsResolver resolver, string domain,
        CancellationToken cancellationToken)
    {
        var options = new DeliveryOptions
        {
            Hostname = config.Hostname,
            Port = config.DeliveryPort,
            DnsServers = config.DnsServers.Select(e => e.ToString()).ToList(),
            Routes = config.Routes.ToDictionary(r => r.Key,
                r => System.Net.IPAddress.TryParse(r.Value.Host, out _) ? $"[{r.Value.Host}]:{r.Value.Port}" : $"{r.Value.Host}:{r.Value.Port}",
                StringComparer.OrdinalIgnoreCase),
            DefaultPolicy = config.DefaultPolicy,
        };
        Db.RelayDatabase? db = config.Database is null ? null : await DatabaseConnector.OpenAsync(config.Database, cancellationToken);
        try
        {
            var plan = await new PolicyPlanner(resolver, db, options).PlanAsync(domain.TrimEnd('.').ToLowerInvariant(), cancellationToken);
            var results = new List<ProbeResult>();
            foreach (var peer in plan.Peers)
                results.Add(await ProbeAsync(peer, options, cancellationToken));
            return results;
        }
        finally
        {
            if (db is not null) await db.DisposeAsync();
        }
    }

    private static async Task<ProbeResult> ProbeAsync(PeerPlan peer, DeliveryOptions options, CancellationToken cancellationToken)
    {
        var (name, address, port) = (peer.Peer.Name, peer.Peer.Address.ToString(), peer.Peer.Port);
        var (session, failure) = await SessionOpener.OpenAsync(peer, messageRequiresTls: false, options, cancellationToken);
        if (failure is not null)
            return new ProbeResult(name, address, port, null, null, null, null, null, null, $"{failure.Stage}: {failure.Text}");
        await using (session!)
        {
            var t = session!.Transport;
            try { await session.Client.QuitAsync(cancellationToken); }
            catch (Exception e) when (e is IOException or Relay.Smtp.Client.SmtpClientException) { /* the answer is already in hand */ }
            return new ProbeResult(name, address, port, t.Transport, t.How, t.Reason, t.Tls?.Version, t.Tls?.Cipher, t.Tls?.SpkiSha256, null);
        }
    }
}
