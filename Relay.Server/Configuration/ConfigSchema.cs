using static Relay.Server.Configuration.ValueKind;
using static Relay.Server.Configuration.ValueShape;

namespace Relay.Server.Configuration;

/// <summary>
/// Every key under Relay: with its type, unit, range and default: the one table that validation at start-up, the
/// "did you mean" for unknown keys and README's configuration table (checked by a test) come from.
/// Adding a key is one line here; readers then take it with <see cref="ConfigValues"/>, which refuses names not in
/// this table, so a key cannot be read without being documented and range-checked.
/// </summary>
public static class ConfigSchema
{
    private static ConfigKey Key(string name, ValueKind kind, string? @default, string meaning, ValueShape shape = ValueShape.Single) =>
        new(name, kind, shape, @default, meaning);

    private static ConfigKey Int(string name, long min, long max, long @default, string meaning, string? unit = null) =>
        new(name, Integer, ValueShape.Single, @default.ToString(System.Globalization.CultureInfo.InvariantCulture), meaning) { Min = min, Max = max, Unit = unit };

    private static ConfigKey Time(string name, string min, string max, string? @default, string meaning) =>
        new(name, Duration, ValueShape.Single, @default, meaning)
        {
            MinDuration = ConfigParsers.Duration(name, min, TimeSpan.Zero, TimeSpan.MaxValue),
            MaxDuration = ConfigParsers.Duration(name, max, TimeSpan.Zero, TimeSpan.MaxValue),
        };

    private static ConfigKey OneOf(string name, string @default, string meaning, params string[] choices) =>
        new(name, Choice, ValueShape.Single, @default, meaning) { Choices = choices };

    public static readonly IReadOnlyList<ConfigKey> Keys =
    [
        Key("Hostname", Hostname, null, "our name in greetings, EHLO, Received, DSNs (default: the machine name)"),
        Key("Database", ConnectionString, null, "Npgsql connection string (required by every command that uses the queue)"),
        Key("DataDirectory", ValueKind.Path, "data", "where generated state (the self-signed certificate and its key) lives; relative to the working directory"),
        Key("Domains", Domain, null, "hosted domains (mail for them is accepted from anyone)", List),
        Key("Routes:<domain>", Route, null, "next hop of a domain, `[10.0.0.5]:25` or `host:port`: required for each hosted domain when delivery runs; for any other domain a transport override (MX is not used)", Map),
        Key("TrustedNetworks", Cidr, null, "networks that may relay anywhere, with no host bits set", List),
        Key("Dns:Servers", Endpoint, "127.0.0.1:53", "resolvers whose AD bit is trusted", List),
        Key("Policy:Default", Text, "dane", "policy level for destinations without an explicit one (`none`, `may`, `encrypt`, `dane`, `dane-only`, `verify`, `secure`)"),

        Key("Tls:Certificate", ValueKind.Path, null, "inbound certificate (PEM); set with Relay:Tls:Key, else a self-signed one is made in Relay:DataDirectory"),
        Key("Tls:Key", ValueKind.Path, null, "the private key (PEM) of Relay:Tls:Certificate"),
        Key("Tls:TrustAnchors", ValueKind.Path, null, "PEM bundle PKIX trusts instead of the system store (verify, secure, MTA-STS)"),

        Key("Smtp:Listen", Endpoint, null, "port-25 endpoints", List),
        Key("Smtp:Submission", Endpoint, null, "submission endpoints (587: STARTTLS, AUTH required)", List),
        Key("Smtp:ImplicitTls", Endpoint, null, "implicit-TLS submission endpoints (465)", List),
        Int("Smtp:MessageSizeLimit", 1024, int.MaxValue, 10_240_000, "largest message accepted", "octets"),
        Int("Smtp:RecipientLimit", 1, 100_000, 1000, "recipients per message"),
        Int("Smtp:HopCountLimit", 1, 1000, 50, "Received headers before a message is refused as looping"),
        Int("Smtp:ErrorLimit", 1, 1000, 20, "errors in a session before it gets 421 4.7.0 and is closed (Postfix's smtpd_hard_error_limit; 1 in stress mode); a message accepted forgives earlier errors"),
        Int("Smtp:SoftErrorLimit", 1, 1000, 10, "errors in a session from which every reply waits Relay:Smtp:ErrorSleep (smtpd_soft_error_limit)"),
        Time("Smtp:ErrorSleep", "0s", "1m", "1s", "delay of each reply once Relay:Smtp:SoftErrorLimit is reached (smtpd_error_sleep_time)"),
        Int("Smtp:JunkCommandLimit", 1, 100_000, 100, "HELO, EHLO, RSET, NOOP, VRFY and HELP in a session before each further one counts as an error (smtpd_junk_command_limit; 1 in stress mode)"),
        Int("Smtp:TextLineLimit", 0, 1_000_000, 1000, "longest message line (0: no limit)", "octets"),
        Int("Smtp:CommandLineLimit", 512, 65_536, 512, "longest command line", "octets"),
        Int("Smtp:ConnectionLimit", 1, 100_000, 1000, "concurrent inbound sessions; with its headroom it must fit the open-file limit (`ulimit -n`), else `serve` refuses to start"),
        Int("Smtp:ConnectionLimitPerClient", 1, 100_000, 50, "concurrent sessions per client address"),
        Int("Smtp:StressThreshold", 1, 100, 80, "share of Relay:Smtp:ConnectionLimit from which stress mode applies: idle sessions without a transaction get Relay:Smtp:StressIdleTimeout, and when full the longest-idle of them make room (421 4.7.0)", "%"),
        Time("Smtp:StressIdleTimeout", "1s", "1h", "10s", "idle timeout, in stress mode, of sessions that have not started a transaction"),
        Int("Smtp:ConnectionRateLimit", 0, 1_000_000, 120, "new connections per client per minute, then 421 4.7.0 (0: no limit)"),
        Int("Smtp:MessageRateLimit", 0, 1_000_000, 600, "MAIL FROM per client per minute, then 450 4.7.1 (0: no limit)"),
        Int("Smtp:AuthFailureLimit", 0, 1000, 5, "failed AUTH per client per Relay:Smtp:AuthFailureWindow, then 421 4.7.0 until the window ends; each failure's reply is delayed longer (0: no limit)"),
        Time("Smtp:AuthFailureWindow", "1s", "1d", "5m", "window of Relay:Smtp:AuthFailureLimit"),
        Key("Smtp:RateLimitExceptions", Cidr, "127.0.0.0/8,::1/128", "clients never counted by the rate and AUTH failure limits (Relay:TrustedNetworks are never counted either)", List),
        Int("Smtp:HeaderSizeLimit", 1024, int.MaxValue, 102_400, "largest header section, then 552 5.3.4", "octets"),
        Int("Smtp:DataMemoryLimit", 1_048_576, int.MaxValue, 536_870_912, "message content all sessions together may hold in memory before it is committed, then 451 4.3.1", "octets"),
        Int("Smtp:MinimumDataRate", 0, int.MaxValue, 500, "slowest DATA/BDAT transfer tolerated (0: off)", "octets/s"),
        Time("Smtp:IdleTimeout", "1s", "1h", "300s", "longest wait for a client's next command"),
        Time("Smtp:DataTimeout", "1s", "1h", "300s", "a whole DATA/BDAT read (plus size / minimum rate)"),
        Time("Smtp:TlsHandshakeTimeout", "1s", "5m", "30s", "longest TLS handshake"),
        Time("Smtp:EnqueueTimeout", "1s", "10m", "60s", "longest wait for the queue to commit a message"),
        Time("Smtp:GreetingDelay", "0s", "5m", "0s", "pause before the banner (clients that talk first are dropped)"),
        OneOf("Smtp:BareLineEndings", "normalize", "bare CR or LF in a message: store as CRLF, or refuse with 550 5.5.2", "normalize", "reject"),
        Key("Smtp:AskClientCertificate", ValueKind.Boolean, "true", "ask (never require) a client certificate to record its SPKI"),
        Key("Smtp:Recipients:<domain>", Text, null, "valid recipients of a hosted domain (others get 550); any when not set", MapOfLists),
        Key("Smtp:Credentials:<user>", PasswordHash, null, "submission users, hashes from `relay web hash-password`", Map),

        Int("Delivery:Port", 1, 65535, 25, "remote SMTP port for MX peers (tests change it)"),
        Int("Delivery:Workers", 1, 256, 4, "concurrent delivery sessions per process"),
        Int("Delivery:ClaimBatch", 1, 10_000, 100, "recipients claimed per query"),
        Int("Delivery:DestinationConcurrency", 1, 1000, 10, "sessions per next hop per process (idle ones count)"),
        Time("Delivery:SessionIdle", "0s", "5m", "5s", "how long an idle session is kept for reuse (0s: off; peers drop idle clients after 5m)"),
        Time("Delivery:Lease", "1s", "1d", "15m", "how long claimed recipients stay ours (renewed while a session runs)"),
        Time("Delivery:FirstRetry", "1s", "7d", "5m", "first retry after a temporary failure (doubling up to Relay:Delivery:MaxRetry)"),
        Time("Delivery:MaxRetry", "1s", "30d", "67m", "longest interval between retries"),
        Time("Delivery:Lifetime", "1m", "365d", "5d", "how long a message is retried before it bounces"),
        Time("Delivery:Retention", "2d", "3650d", "7d", "how long delivered and bounced messages, attempt records and inbound session rows are kept (the delivery role deletes older ones every hour; at least 2d, so TLS-RPT still has yesterday)"),
        Time("Delivery:IdlePoll", "1s", "1h", "30s", "longest sleep when the queue looks empty (NOTIFY wakes delivery sooner)"),
        Time("Delivery:DelayWarning", "1m", "365d", null, "when to send a delay DSN (off when not set)"),
        Key("Delivery:DowngradeProtection", ValueKind.Boolean, "true", "a peer that completed TLS within Relay:Delivery:DowngradeWindow gets no cleartext under an opportunistic plan: the mail defers until the history ages out or `relay peers forget PEER` (possible downgrades are flagged either way)"),
        Time("Delivery:DowngradeWindow", "1m", "365d", "30d", "how long a peer's STARTTLS offer or completed TLS counts as recent for downgrade detection and protection"),
        // Postfix's smtp_*_timeout; the defaults are RFC 5321 §4.5.3.2's minimums (shorter for connect and TLS).
        Time("Delivery:ConnectTimeout", "100ms", "10m", "30s", "longest TCP connect to a peer"),
        Time("Delivery:GreetingTimeout", "100ms", "1h", "2m", "longest wait for a peer's 220 greeting"),
        Time("Delivery:CommandTimeout", "100ms", "1h", "2m", "longest wait for the reply to EHLO, STARTTLS, MAIL, RCPT, DATA, QUIT"),
        Time("Delivery:TlsHandshakeTimeout", "100ms", "10m", "1m", "longest TLS handshake with a peer"),
        Time("Delivery:DataTimeout", "100ms", "1h", "3m", "longest send of one block of message data"),
        Time("Delivery:DotTimeout", "100ms", "1h", "10m", "longest wait for the reply to the final dot"),

        Key("Web:Listen", Endpoint, "127.0.0.1:8080", "admin UI endpoints", List),
        Key("Web:AllowedHosts", ValueKind.Hostname, null, "host names the UI answers to besides Relay:Hostname, IP literals and localhost (e.g. a reverse proxy's)", List),
        Key("Web:AdminUser", Text, null, "the one admin login (required by the web role)"),
        Key("Web:AdminPasswordHash", PasswordHash, null, "its hash, from `relay web hash-password` (required by the web role)"),
        Key("Web:Certificate", ValueKind.Path, null, "PEM certificate: serve the UI over HTTPS (Secure cookies); set with Relay:Web:Key"),
        Key("Web:Key", ValueKind.Path, null, "the private key (PEM) of Relay:Web:Certificate"),
        Key("Web:KeyEncryptionCertificate", ValueKind.Path, null, "PEM file with an RSA certificate and its private key that encrypts the Data Protection key ring (cookie and anti-forgery keys) in the database; the same on every web process; unset: stored unencrypted, with a warning at start-up"),
        Key("Web:KeyDecryptionCertificates", ValueKind.Path, null, "retired key-encryption certificates (PEM, certificate and private key each) that still decrypt the keys made under them, so a rotation logs nobody out", List),

        Key("Ipsec:Enabled", ValueKind.Boolean, "false", "use the libreswan sidecar for opportunistic IPsec"),
        Key("Ipsec:ControlSocket", ValueKind.Path, "/run/pluto/pluto.ctl", "pluto's control socket"),
        Time("Ipsec:Timeout", "100ms", "1m", "3s", "longest wait for the sidecar to set up protection"),
        Key("Ipsec:PolicyDirectory", ValueKind.Path, null, "directory of the libreswan policy group files"),
        Key("Ipsec:Command", ValueKind.Path, "ipsec", "the `ipsec` executable whose `whack` talks to pluto"),
        Int("MtaSts:Port", 1, 65535, 443, "port of the MTA-STS policy fetch (tests change it)"),
        Key("TlsRpt:Organization", Text, null, "organization-name of the TLS reports (RFC 8460) we send; unset: Relay:Hostname"),
        Key("TlsRpt:Contact", Text, null, "contact-info of the TLS reports we send (`mailto:…`), also their From; unset: mailto:postmaster@Relay:Hostname"),
        Key("Metrics:Listen", Endpoint, "127.0.0.1:9464", "the `/metrics`, `/healthz`, `/readyz` endpoint of every `relay serve` process (port 0: any free port)"),
        OneOf("Logging:Format", "text", "log line format", "text", "json"),
    ];

    private static readonly Dictionary<string, ConfigKey> ByName = Keys.ToDictionary(k => k.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The row of a key (name without "Relay:"); a programming error when it is not in the table.</summary>
    public static ConfigKey Get(string name) =>
        ByName.TryGetValue(name, out var key) ? key : throw new InvalidOperationException($"configuration key Relay:{name} is not in ConfigSchema.Keys");
}
