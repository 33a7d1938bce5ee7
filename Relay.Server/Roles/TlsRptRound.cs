using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Delivery;
using Relay.Delivery.TlsRpt;
using Relay.Dns;
using Relay.Server.Configuration;

namespace Relay.Server.Roles;

/// <summary>The delivery role's daily TLS-report round (RFC 8460), started beside delivery; without a resolver there is
/// no `_smtp._tls` to read, so no round.</summary>
internal static class TlsRptRound
{
    public static Task? Start(RelayConfig config, DeliveryOptions delivery, RelayDatabase db, ILoggerFactory loggers, CancellationToken stop)
    {
        var logger = loggers.CreateLogger("tlsrpt");
        if (delivery.DnsServers.Count == 0)
        {
            logger.LogInformation("tlsrpt: no Relay:Dns:Servers, so no _smtp._tls lookups: TLS reports are not sent");
            return null;
        }
        var options = TlsRptOptionsReader.Read(config, delivery);
        var resolver = new DnsResolver(delivery.DnsServers.Select(e => new DnsServer(e, Trusted: true)).ToList());
        var sender = new TlsRptSender(db, resolver, options, logger, delivery.WorkerId);
        return Task.Run(() => new TlsRptSchedule(sender, options, logger).RunAsync(stop), CancellationToken.None);
    }
}
