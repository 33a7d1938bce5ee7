namespace Relay.Dns;

public sealed class DnsResolverOptions
{
    /// <summary>Deadline for one datagram or TCP exchange with one server.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Extra rounds over the server list after timeouts or network errors (0 = each server once).</summary>
    public int Retries { get; init; } = 1;

    /// <summary>EDNS0 UDP payload size we advertise; 1232 avoids IP fragmentation (DNS flag day 2020).</summary>
    public int UdpPayloadSize { get; init; } = 1232;

    /// <summary>Maximum number of cached answers (positive and negative). 0 disables the cache.</summary>
    public int CacheSize { get; init; } = 10_000;

    /// <summary>Cached answers never live longer than this, whatever the TTL says.</summary>
    public TimeSpan MaxCacheTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Longest CNAME chain followed before the answer is an error (loops end here too).</summary>
    public int MaxCnameLinks { get; init; } = 8;

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
