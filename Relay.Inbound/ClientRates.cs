using System.Net;

namespace Relay.Inbound;

/// <summary>
/// Per-client event counts in fixed time windows, as Postfix's anvil(8) keeps them: connections and messages per
/// minute (anvil_rate_time_unit = 60s) and AUTH failures per <see cref="SmtpListenerOptions.AuthFailureWindow"/>.
/// A limit of 0 is no limit. Clients in the exception networks (Postfix's smtpd_client_event_limit_exceptions,
/// $mynetworks by default) are never counted. Lives in memory only: a restart forgives everyone, as anvil does.
/// The table is pruned by <see cref="Prune"/> and capped at <see cref="MaxClients"/> entries, so a flood from many
/// addresses cannot grow it without bound (when full, new addresses go uncounted until old windows expire).
/// </summary>
public sealed class ClientRates(SmtpListenerOptions options, Func<TimeSpan>? clock = null)
{
    public const int MaxClients = 100_000;
    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    private sealed class Counts
    {
        public TimeSpan RateWindowStart;
        public int Connections;
        public int Messages;
        public TimeSpan AuthWindowStart;
        public int AuthFailures;
    }

    private readonly Dictionary<IPAddress, Counts> _clients = [];
    private readonly IReadOnlyList<IPNetwork> _exceptions = options.RateLimitExceptions.Select(RelayAccess.ParseNetwork).ToList();
    private readonly Func<TimeSpan> _clock = clock ?? (() => TimeSpan.FromMilliseconds(Environment.TickCount64));

    public int Tracked { get { lock (_clients) return _clients.Count; } }

    public bool IsExempt(IPAddress client)
    {
        // A loop, not Any(lambda): this runs for every connection and MAIL, and the lambda's closure was an allocation each time.
        client = Normal(client);
        for (var i = 0; i < _exceptions.Count; i++) if (_exceptions[i].Contains(client)) return true;
        return false;
    }

    /// <summary>Counts a new connection; true when it is over Relay:Smtp:ConnectionRateLimit for this minute.</summary>
    public bool ConnectionOverLimit(IPAddress client) =>
        options.ConnectionRateLimit > 0 && Update(client, c => ++c.Connections) > options.ConnectionRateLimit;

    /// <summary>Counts a MAIL FROM; true when it is over Relay:Smtp:MessageRateLimit for this minute.</summary>
    public bool MessageOverLimit(IPAddress client) =>
        options.MessageRateLimit > 0 && Update(client, c => ++c.Messages) > options.MessageRateLimit;

    /// <summary>Counts a failed AUTH and returns the failures in the current window (0 when the client is exempt or limits are off).</summary>
    public int AuthFailed(IPAddress client) =>
        options.AuthFailureLimit > 0 ? Update(client, c => ++c.AuthFailures) : 0;

    /// <summary>True while the client has used up its AUTH failures for the window: it is locked out until the window ends.</summary>
    public bool AuthLockedOut(IPAddress client) =>
        options.AuthFailureLimit > 0 && Update(client, c => c.AuthFailures, create: false) >= options.AuthFailureLimit;

    /// <summary>Drops clients whose windows have all ended; called by the listener's sweeper.</summary>
    public void Prune()
    {
        var now = _clock();
        lock (_clients)
        {
            foreach (var (address, counts) in _clients.ToList())
            {
                Roll(counts, now);
                if (counts.Connections == 0 && counts.Messages == 0 && counts.AuthFailures == 0) _clients.Remove(address);
            }
        }
    }

    private int Update(IPAddress client, Func<Counts, int> change, bool create = true)
    {
        client = Normal(client);
        if (IsExempt(client)) return 0;
        var now = _clock();
        lock (_clients)
        {
            if (!_clients.TryGetValue(client, out var counts))
            {
                if (!create || _clients.Count >= MaxClients) return 0;
                counts = new Counts { RateWindowStart = now, AuthWindowStart = now };
                _clients[client] = counts;
            }
            Roll(counts, now);
            return change(counts);
        }
    }

    // Fixed windows, as anvil: a window's counts start again from zero when it ends.
    private void Roll(Counts counts, TimeSpan now)
    {
        if (now - counts.RateWindowStart >= RateWindow) { counts.RateWindowStart = now; counts.Connections = 0; counts.Messages = 0; }
        if (now - counts.AuthWindowStart >= options.AuthFailureWindow) { counts.AuthWindowStart = now; counts.AuthFailures = 0; }
    }

    private static IPAddress Normal(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
