using Npgsql;
using Relay.Db.Web;

namespace Relay.Db;

/// <summary>
/// The one entry point to PostgreSQL. Everything that speaks SQL lives in this assembly and uses
/// parameterised statements only; callers get typed operations, never a connection.
/// </summary>
public sealed class RelayDatabase : IAsyncDisposable
{
    public const string QueueChannel = "relay_queue";

    public RelayDatabase(string connectionString)
    {
        DataSource = new NpgsqlDataSourceBuilder(WithPoolDefaults(connectionString)).Build();
        enqueues = EnqueueWriter.Create(DataSource);
        Queue = new QueueStore(DataSource, enqueues);
        Attempts = new AttemptStore(DataSource);
        QueueReader = new QueueReader(DataSource);
        AttemptReader = new AttemptReader(DataSource);
        PeerReader = new PeerReader(DataSource);
        DomainReader = new DomainReader(DataSource);
        InboundReader = new InboundReader(DataSource);
        OverviewReader = new OverviewReader(DataSource);
        Policies = new PolicyStore(DataSource);
        Admin = new QueueAdmin(DataSource);
        Sessions = new InboundSessionStore(DataSource);
        Peers = new PeerAdmin(DataSource);
        StsPolicies = new StsPolicyStore(DataSource);
        TlsRptReader = new TlsRptReader(DataSource);
        TlsRpt = new TlsRptStore(DataSource);
        PeerHistory = new PeerHistoryStore(DataSource);
        WebSessions = new WebSessionStore(DataSource);
        DataProtectionKeys = new DataProtectionKeyStore(DataSource);
        LoginThrottle = new LoginThrottleStore(DataSource);
        OwnTlsa = new OwnTlsaStore(DataSource);
        Retention = new RetentionStore(DataSource);
    }

    private readonly GroupCommit<Enqueue, string> enqueues;

    /// <summary>
    /// Pool settings, unless the operator's connection string names them. Measured with bench/statements.sh (a relayed
    /// message opened ~10 pooled connections, each answered with a DISCARD ALL, and every statement was parsed and planned
    /// anew: the attempt statement's parse + bind took longer than its execution): <c>No Reset On Close</c>, because no
    /// code here leaves session state on a pooled connection (settings are <c>set local</c>, advisory locks are unlocked in
    /// <c>finally</c>, LISTEN has a connection of its own), and automatic preparation of the statements used most, which a
    /// reset would throw away.
    /// <para>
    /// Prepared statements are planned for every execution (<c>plan_cache_mode=force_custom_plan</c>, added to
    /// <c>Options</c> unless they name plan_cache_mode): PostgreSQL otherwise switches a statement to its generic plan
    /// after five executions and keeps that plan until the table is next analyzed. A queue starts empty, so the generic
    /// plan of the recipient-state update was a sequential scan with a hash join; as a burst of 20,000 messages filled the
    /// table, each record took 40–100 ms instead of well under one, delivery ran at ~100 msg/s until autovacuum's analyze
    /// (up to a minute later) replaced the plan, and bench/run-all's relay rate swung between 250 and 676 msg/s from one
    /// round to the next. Planning anew costs a fraction of a millisecond; the parse that preparation saves stays saved.
    /// </para>
    /// </summary>
    public static string WithPoolDefaults(string connectionString)
    {
        // The keys as written (Npgsql's builder answers ContainsKey for every keyword it knows), spaces and case ignored.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()).ToHashSet();
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Contains("noresetonclose")) builder.NoResetOnClose = true;
        if (!given.Contains("maxautoprepare")) builder.MaxAutoPrepare = 32;
        if (!given.Contains("autoprepareminusages")) builder.AutoPrepareMinUsages = 2;
        if (builder.Options?.Contains("plan_cache_mode", StringComparison.OrdinalIgnoreCase) != true)
            builder.Options = string.IsNullOrWhiteSpace(builder.Options)
                ? "-c plan_cache_mode=force_custom_plan"
                : $"{builder.Options} -c plan_cache_mode=force_custom_plan";
        return builder.ConnectionString;
    }

    internal NpgsqlDataSource DataSource { get; }

    public QueueStore Queue { get; }
    public AttemptStore Attempts { get; }
    // Read-only, one reader per screen.
    public QueueReader QueueReader { get; }
    public AttemptReader AttemptReader { get; }
    public PeerReader PeerReader { get; }
    public DomainReader DomainReader { get; }
    public InboundReader InboundReader { get; }
    public OverviewReader OverviewReader { get; }
    public PolicyStore Policies { get; }
    public QueueAdmin Admin { get; }
    public InboundSessionStore Sessions { get; }
    public PeerAdmin Peers { get; }
    /// <summary>The MTA-STS policy cache.</summary>
    public StsPolicyStore StsPolicies { get; }
    /// <summary>TLS reporting (RFC 8460): the day's attempts per domain, and the ledger of reports sent.</summary>
    public TlsRptReader TlsRptReader { get; }
    public TlsRptStore TlsRpt { get; }

    /// <summary>Peer history for downgrade detection (what planning reads; attempts write it).</summary>
    public PeerHistoryStore PeerHistory { get; }

    /// <summary>The admin UI's sessions, shared by every web process.</summary>
    public WebSessionStore WebSessions { get; }
    /// <summary>The admin UI's Data Protection key ring (cookies, anti-forgery tokens).</summary>
    public DataProtectionKeyStore DataProtectionKeys { get; }
    /// <summary>The admin login's failure counts and lockouts per address and account, shared by every web process.</summary>
    public LoginThrottleStore LoginThrottle { get; }
    /// <summary>The smtp role's latest check of our own TLSA record, for the overview page.</summary>
    public OwnTlsaStore OwnTlsa { get; }
    public RetentionStore Retention { get; }

    public Migrator Migrator() => new(DataSource);

    /// <summary>A listener that wakes when a message is enqueued or released (LISTEN relay_queue).</summary>
    public QueueSignal ListenForQueue() => new(DataSource);

    /// <summary>Opens and closes one connection: a readiness check that names the failure.</summary>
    public async Task CheckReachableAsync(CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        // Messages already handed in are committed (or failed to their callers) before the connections close.
        await enqueues.DisposeAsync().ConfigureAwait(false);
        await Attempts.DisposeAsync().ConfigureAwait(false);
        await Sessions.DisposeAsync().ConfigureAwait(false);
        await DataSource.DisposeAsync().ConfigureAwait(false);
    }
}
