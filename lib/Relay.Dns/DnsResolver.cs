using System.Collections.Concurrent;
using System.Security.Cryptography;
using Relay.Dns.Transport;
using Relay.Dns.Wire;

namespace Relay.Dns;

/// <summary>
/// Stub resolver that does not validate signatures itself: like Postfix and maddy it believes the AD bit
/// only from servers marked trusted (a local validating unbound), and keeps secure, insecure, bogus and
/// failed answers apart all the way to the caller. Thread-safe; share one instance.
/// </summary>
public sealed class DnsResolver : IDnsResolver
{
    private readonly DnsServer[] _servers;
    private readonly DnsResolverOptions _options;
    private readonly DnsCache _cache;
    private readonly ConcurrentDictionary<string, Lazy<Task<DnsResult>>> _inFlight = new(StringComparer.Ordinal);
    private long _exchanges;

    public DnsResolver(IReadOnlyList<DnsServer> servers, DnsResolverOptions? options = null)
    {
        if (servers.Count == 0) throw new ArgumentException("at least one DNS server is needed", nameof(servers));
        _servers = servers.ToArray();
        _options = options ?? new DnsResolverOptions();
        if (_options.QueryTimeout <= TimeSpan.Zero) throw new ArgumentException("QueryTimeout must be positive");
        if (_options.Retries < 0) throw new ArgumentException("Retries must not be negative");
        if (_options.UdpPayloadSize is < 512 or > 65535) throw new ArgumentException("UdpPayloadSize must be 512..65535");
        _cache = new DnsCache(_options.CacheSize, _options.Time, _options.MaxCacheTtl);
    }

    public IReadOnlyList<DnsServer> Servers => _servers;

    /// <summary>Messages sent so far (UDP and TCP); lets tests see caching and coalescing.</summary>
    public long ExchangeCount => Interlocked.Read(ref _exchanges);

    public Task<DnsResult> QueryAsync(string name, DnsType type, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!DnsName.TryNormalize(name, out var normalized))
            return Task.FromResult<DnsResult>(new DnsResult.Error(name ?? "", type, DnsErrorKind.BadQuery, $"not a domain name: '{name}'"));
        if (type is DnsType.OPT or DnsType.ANY || (ushort)type == 0)
            return Task.FromResult<DnsResult>(new DnsResult.Error(normalized, type, DnsErrorKind.BadQuery, $"type {DnsTypes.ToText(type)} cannot be queried"));

        var key = DnsCache.Key(normalized, type);
        if (_cache.TryGet(key, out var cached))
        {
            DnsMetrics.Result(cached!, cached: true);
            return Task.FromResult(cached!);
        }

        // Identical concurrent queries share one lookup. The shared lookup is not tied to any one caller's
        // token (it ends by its own deadlines); each caller stops waiting when its own token fires.
        var lazy = new Lazy<Task<DnsResult>>(() => LookupAndForgetAsync(key, normalized, type));
        var shared = _inFlight.GetOrAdd(key, lazy);
        return shared.Value.WaitAsync(cancellationToken);
    }

    private async Task<DnsResult> LookupAndForgetAsync(string key, string name, DnsType type)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var result = await ResolveAsync(name, type).ConfigureAwait(false);
            DnsMetrics.Lookup(type, clock.Elapsed);
            DnsMetrics.Result(result, cached: false);
            switch (result)
            {
                case DnsResult.Secure s: _cache.Set(key, s, s.Ttl); break;
                case DnsResult.Insecure i: _cache.Set(key, i, i.Ttl); break;
                case DnsResult.NxDomain n: _cache.Set(key, n, n.NegativeTtl); break;
                case DnsResult.NoData d: _cache.Set(key, d, d.NegativeTtl); break;
            }
            return result;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug here must still come back as a value: callers treat any Error as "temporary".
            return new DnsResult.Error(name, type, DnsErrorKind.Malformed, "internal error: " + e.Message);
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }

    private async Task<DnsResult> ResolveAsync(string name, DnsType type)
    {
        var links = new List<DnsCnameLink>();
        var cnameTtl = uint.MaxValue;
        var allSecure = true;
        var current = name;
        while (true)
        {
            var (response, server, viaTcp, failure) = await AskServersAsync(name, current, type, links).ConfigureAwait(false);
            if (failure is not null) return failure;
            var secure = response!.AuthenticData && server!.Trusted;
            allSecure &= secure;

            // Follow the aliases the resolver already followed for us (RFC 1034 §3.6.2).
            var target = current;
            while (type != DnsType.CNAME
                   && response.Answers.OfType<CnameRecord>().FirstOrDefault(c => DnsName.Equal(c.Name, target)) is { } alias)
            {
                if (links.Count >= _options.MaxCnameLinks || links.Any(l => DnsName.Equal(l.Owner, alias.Target)) || DnsName.Equal(alias.Target, name))
                    return new DnsResult.Error(name, type, DnsErrorKind.Malformed, $"CNAME chain longer than {_options.MaxCnameLinks} links or looping",
                        chain: new DnsCnameChain(name, links), server: server);
                links.Add(new DnsCnameLink(alias.Name, alias.Target, secure));
                cnameTtl = Math.Min(cnameTtl, alias.Ttl);
                target = alias.Target;
            }

            var records = response.Answers.Where(r => r.Type == type && DnsName.Equal(r.Name, target)).ToArray();
            var soa = response.Authorities.OfType<SoaRecord>().FirstOrDefault();
            var negativeTtl = soa?.NegativeTtl ?? 0;
            if (records.Length == 0 && response.Rcode == DnsRcode.NoError && !DnsName.Equal(target, current) && soa is null)
            {
                // The server stopped at an alias without saying the target is empty: ask for the target.
                current = target;
                continue;
            }

            if (records.Length == 0 && response.Rcode == DnsRcode.NoError && soa is null && !response.Authoritative
                && response.Authorities.Any(r => r.Type == DnsType.NS))
            {
                // A referral: the server does not recurse for us. That is not "no data".
                return new DnsResult.Error(name, type, DnsErrorKind.ServerFailure,
                    $"{server!.Endpoint} answered with a referral (not a recursive resolver)", DnsRcode.NoError,
                    new DnsCnameChain(name, links), server);
            }

            var chain = await CheckLinksAsync(name, links, allSecure).ConfigureAwait(false);
            if (records.Length > 0)
            {
                var ttl = Math.Min(cnameTtl, records.Min(r => r.Ttl));
                return allSecure
                    ? new DnsResult.Secure(name, type, records, ttl, chain, server, viaTcp)
                    : new DnsResult.Insecure(name, type, records, ttl, chain, server, viaTcp);
            }
            return response.Rcode == DnsRcode.NxDomain
                ? new DnsResult.NxDomain(name, type, allSecure, negativeTtl, chain, server, viaTcp)
                : new DnsResult.NoData(name, type, allSecure, negativeTtl, chain, server, viaTcp);
        }
    }

    /// <summary>
    /// When the whole answer was validated every link is secure. Otherwise each link's CNAME RRset is asked
    /// on its own, because a chain that leaves a signed zone makes the final answer AD=0 while the links
    /// before the exit are still secure — exactly what RFC 7672 §2.2.2 needs to know.
    /// </summary>
    private async Task<DnsCnameChain> CheckLinksAsync(string name, List<DnsCnameLink> links, bool allSecure)
    {
        if (links.Count == 0 || allSecure) return new DnsCnameChain(name, links);
        var checkedLinks = new List<DnsCnameLink>(links.Count);
        foreach (var link in links)
        {
            if (link.Secure) { checkedLinks.Add(link); continue; }
            var own = await QueryAsync(link.Owner, DnsType.CNAME).ConfigureAwait(false);
            var secure = own is DnsResult.Secure s
                         && s.RecordsOf<CnameRecord>().Any(c => DnsName.Equal(c.Target, link.Target));
            checkedLinks.Add(link with { Secure = secure });
        }
        return new DnsCnameChain(name, checkedLinks);
    }

    private async Task<(DnsMessage? Response, DnsServer? Server, bool ViaTcp, DnsResult? Failure)> AskServersAsync(
        string originalName, string name, DnsType type, List<DnsCnameLink> links)
    {
        var finished = new bool[_servers.Length]; // gave an rcode that asking again will not change
        (DnsServer Server, DnsEdns? Edns)? bogus = null;
        var lastKind = DnsErrorKind.Timeout;
        var lastReason = "no server answered";
        var lastRcode = DnsRcode.NoError;
        DnsServer? lastServer = null;
        for (var round = 0; round <= _options.Retries; round++)
        {
            for (var i = 0; i < _servers.Length; i++)
            {
                if (finished[i]) continue;
                var server = _servers[i];
                // Once a trusted validator has said SERVFAIL, only another trusted validator may overrule it:
                // an unvalidated answer from elsewhere would turn "bogus" into "insecure" — a downgrade.
                if (bogus is not null && !server.Trusted) continue;
                var exchange = await ExchangeAsync(server, name, type).ConfigureAwait(false);
                if (exchange.Response is not { } response)
                {
                    lastKind = exchange.FailureKind;
                    lastReason = exchange.Failure!;
                    continue;
                }
                switch (response.Rcode)
                {
                    case DnsRcode.NoError or DnsRcode.NxDomain:
                        return (response, server, exchange.ViaTcp, null);
                    case DnsRcode.ServFail when server.Trusted:
                        bogus ??= (server, response.Edns);
                        break;
                    default:
                        lastKind = response.Rcode is DnsRcode.Refused or DnsRcode.NotImp ? DnsErrorKind.Refused : DnsErrorKind.ServerFailure;
                        lastReason = $"{server.Endpoint} answered {DnsRcodes.ToText(response.Rcode)}";
                        lastRcode = response.Rcode;
                        lastServer = server;
                        break;
                }
                finished[i] = true;
            }
        }
        var chain = new DnsCnameChain(originalName, links);
        DnsResult failure = bogus is { } b
            ? new DnsResult.Bogus(originalName, type, b.Edns?.ExtendedErrorCode, b.Edns?.ExtendedErrorText, chain, b.Server)
            : new DnsResult.Error(originalName, type, lastKind, lastReason, lastRcode, chain, lastServer);
        return (null, null, false, failure);
    }

    private async Task<DnsExchange> ExchangeAsync(DnsServer server, string name, DnsType type)
    {
        Interlocked.Increment(ref _exchanges);
        var query = DnsMessage.Query(NewId(), name, type, (ushort)_options.UdpPayloadSize);
        var udp = await UdpTransport.ExchangeAsync(server, query, _options.QueryTimeout, CancellationToken.None).ConfigureAwait(false);
        if (udp.Response is not { Truncated: true }) return udp;
        // TC=1: the answer did not fit; ask again over TCP with a fresh ID (RFC 7766 §5).
        Interlocked.Increment(ref _exchanges);
        var tcpQuery = DnsMessage.Query(NewId(), name, type, (ushort)_options.UdpPayloadSize);
        return await TcpTransport.ExchangeAsync(server, tcpQuery, _options.QueryTimeout, CancellationToken.None).ConfigureAwait(false);
    }

    private static ushort NewId() => (ushort)RandomNumberGenerator.GetInt32(0, 65536);
}
