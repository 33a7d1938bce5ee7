using System.Net;
using System.Security.Cryptography.X509Certificates;
using Relay.Policy;
using Relay.Policy.Planning;
using Relay.Smtp.Client;

namespace Relay.Delivery;

/// <summary>Everything the delivery role is configured with (Relay.Server maps the Relay:* configuration keys onto it).</summary>
public sealed record DeliveryOptions
{
    /// <summary>Our name in EHLO and in DSNs (Relay:Hostname).</summary>
    public string Hostname { get; init; } = "localhost";

    /// <summary>Remote SMTP port for MX peers (Relay:Delivery:Port); routes carry their own.</summary>
    public int Port { get; init; } = 25;

    /// <summary>Resolvers, trusted for the AD bit (Relay:Dns:Servers).</summary>
    public IReadOnlyList<IPEndPoint> DnsServers { get; init; } = [];

    /// <summary>Hosted domain → its configured next hop (Relay:Routes:&lt;domain&gt;), keyed case-insensitively.</summary>
    public IReadOnlyDictionary<string, NextHop> Routes { get; init; } = new Dictionary<string, NextHop>();

    /// <summary>Default policy level for destinations without an explicit one (Relay:Policy:Default).</summary>
    public PolicyLevel DefaultPolicy { get; init; } = PolicyLevel.Dane;

    /// <summary>
    /// CA certificates PKIX trusts instead of the system store (Relay:Tls:TrustAnchors), for `verify`, `secure` and
    /// the `trusted` of opportunistic hops; null: the system store.
    /// </summary>
    public X509Certificate2Collection? TrustAnchors { get; init; }

    /// <summary>Port of the MTA-STS policy fetch, https://mta-sts.DOMAIN:PORT/ (Relay:MtaSts:Port); 443 except in tests.</summary>
    public int MtaStsPort { get; init; } = 443;

    /// <summary>
    /// Peer history (Relay:Delivery:DowngradeProtection, Relay:Delivery:DowngradeWindow): a peer that completed TLS within the
    /// window gets no cleartext while protection is on; a possible downgrade is flagged either way.
    /// </summary>
    public Policy.History.HistorySettings History { get; init; } = Policy.History.HistorySettings.Default;

    /// <summary>Next hops delivered at the same time by this process.</summary>
    public int Workers { get; init; } = 4;

    /// <summary>
    /// Sessions (in use or parked idle) this process keeps to one next hop at once (Relay:Delivery:DestinationConcurrency).
    /// Postfix's default_destination_concurrency_limit is 20 per MTA; 10 here because the limit is per process and
    /// several delivery processes share one queue (two of them already reach Postfix's 20), and because large
    /// receivers throttle a sending address that opens many parallel connections.
    /// </summary>
    public int DestinationConcurrency { get; init; } = 10;

    /// <summary>
    /// How long a session left usable by one batch stays open for the next batch to the same next hop
    /// (Relay:Delivery:SessionIdle); zero closes it at once. Short, as Postfix's 2 s connection cache: an idle
    /// client holds a slot at the peer, and peers drop idle clients anyway.
    /// </summary>
    public TimeSpan SessionIdle { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Recipients leased per claim.</summary>
    public int ClaimBatch { get; init; } = 100;

    /// <summary>How long a claim is ours; longer than the slowest session we allow.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(15);

    public TimeSpan FirstRetry { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan MaxRetry { get; init; } = TimeSpan.FromMinutes(67);
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromDays(5);

    /// <summary>How long finished messages, attempt records and inbound session rows are kept (Relay:Delivery:Retention).</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>How often the delivery role sweeps what is older than <see cref="Retention"/> (tests shorten it).</summary>
    public TimeSpan RetentionSweepInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Send a "delayed" DSN once a message has waited this long (Postfix's delay_warning_time); null: never.</summary>
    public TimeSpan? DelayWarning { get; init; }

    /// <summary>Longest sleep without NOTIFY: the queue is checked at least this often.</summary>
    public TimeSpan IdlePoll { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>After stop is requested, how long running sessions may take to finish.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>RFC 5321 §5.1 suggests a limit; the issue asks for 5 addresses per attempt.</summary>
    public int MaxAddressesPerAttempt { get; init; } = 5;

    /// <summary>Largest original message returned inside a DSN; beyond it only the headers go back.</summary>
    public int MaxReturnedMessageBytes { get; init; } = 256 * 1024;

    public SmtpClientTimeouts Timeouts { get; init; } = new();

    /// <summary>The libreswan OE sidecar (Relay:Ipsec:*); disabled by default.</summary>
    public Ipsec.IpsecOptions Ipsec { get; init; } = new();

    /// <summary>Process identity for leases: several processes share one database.</summary>
    public string WorkerId { get; init; } = NewWorkerId();

    private static string NewWorkerId()
    {
        var id = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
        return id.Length <= 100 ? id : id[^100..];
    }
}
