using System.Net;
using Relay.Smtp.Server;

namespace Relay.Inbound;

/// <summary>
/// Everything the inbound listener is configured with. Defaults follow Postfix where Postfix has one
/// (named in the comments) so operators can carry their numbers over.
/// </summary>
public sealed class SmtpListenerOptions
{
    /// <summary>Our name in the greeting, EHLO reply and Received: (Relay:Hostname).</summary>
    public string Hostname { get; set; } = "localhost";

    /// <summary>Port-25 role endpoints (Relay:Smtp:Listen).</summary>
    public IList<IPEndPoint> Listen { get; set; } = [];

    /// <summary>Submission endpoints: STARTTLS then AUTH required before MAIL (Relay:Smtp:Submission).</summary>
    public IList<IPEndPoint> Submission { get; set; } = [];

    /// <summary>Implicit-TLS submission endpoints, RFC 8314 port 465 (Relay:Smtp:ImplicitTls).</summary>
    public IList<IPEndPoint> ImplicitTls { get; set; } = [];

    /// <summary>Hosted domains: mail to them is accepted from anyone (Relay:Domains).</summary>
    public IList<string> Domains { get; set; } = [];

    /// <summary>CIDRs that may relay to any domain (Relay:TrustedNetworks), e.g. "10.0.0.0/8", "::1/128".</summary>
    public IList<string> TrustedNetworks { get; set; } = [];

    /// <summary>Optional recipient lists per hosted domain (full addresses); a domain without a list accepts every local part.</summary>
    public IDictionary<string, IList<string>> Recipients { get; set; } = new Dictionary<string, IList<string>>(StringComparer.OrdinalIgnoreCase);

    /// <summary>PEM certificate (chain) and key (Relay:Tls:Certificate / Relay:Tls:Key).</summary>
    public string? CertificatePath { get; set; }
    public string? KeyPath { get; set; }

    /// <summary>Where a self-signed certificate is generated on first start and kept, when none is configured. Null: generated in memory per start.</summary>
    public string? GeneratedCertificateDirectory { get; set; }

    /// <summary>Submission users: user name → <see cref="Relay.Db.PasswordHasher"/> string (made by `relay web hash-password`).</summary>
    public IDictionary<string, string> Credentials { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Request (never require) a client certificate so its SPKI can be recorded; it does not raise the inbound transport word.</summary>
    public bool AskClientCertificate { get; set; } = true;

    // Limits.
    public long MessageSizeLimit { get; set; } = 10_240_000;          // message_size_limit
    public int CommandLineLimit { get; set; } = 512;                   // RFC 5321 §4.5.3.1.4
    public int TextLineLimit { get; set; } = 1000;                     // RFC 5321 §4.5.3.1.6; 0 = no limit
    public int RecipientLimit { get; set; } = 1000;                    // smtpd_recipient_limit
    public int HopCountLimit { get; set; } = 50;                       // hopcount_limit
    public int ErrorLimit { get; set; } = 20;                          // smtpd_hard_error_limit (1 under stress)
    public int SoftErrorLimit { get; set; } = 10;                      // smtpd_soft_error_limit: from here every reply waits ErrorSleep
    public TimeSpan ErrorSleep { get; set; } = TimeSpan.FromSeconds(1); // smtpd_error_sleep_time
    public int JunkCommandLimit { get; set; } = 100;                   // smtpd_junk_command_limit (1 under stress)
    public int ConnectionLimitPerClient { get; set; } = 50;            // smtpd_client_connection_count_limit
    public int ConnectionLimit { get; set; } = 1000;                   // total concurrent sessions
    public int HeaderSizeLimit { get; set; } = 102_400;                // header_size_limit (we refuse rather than truncate)
    /// <summary>Message content held in memory by all sessions together; a message that would pass it gets 451 4.3.1.</summary>
    public long DataMemoryLimit { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// Descriptors the listener leaves free for the rest of the process (database pool growth, outbound sessions, DNS,
    /// the runtime's threads) when it sizes itself against the open-file limit; the executable derives it from the pool size.
    /// </summary>
    public int KeepFreeDescriptors { get; set; } = 256;

    // Stress mode (Postfix's, postscreen-free): at this share of ConnectionLimit, sessions that have not started a
    // transaction may idle only StressIdleTimeout, and a new client may push out the longest-idle of them.
    public int StressThresholdPercent { get; set; } = 80;
    public TimeSpan StressIdleTimeout { get; set; } = TimeSpan.FromSeconds(10);   // smtpd_timeout under stress

    // Per-client rates (anvil). 0 = no limit. Clients in RateLimitExceptions are never counted.
    public int ConnectionRateLimit { get; set; } = 120;                // smtpd_client_connection_rate_limit, per minute
    public int MessageRateLimit { get; set; } = 600;                   // smtpd_client_message_rate_limit, per minute
    public int AuthFailureLimit { get; set; } = 5;                     // failed AUTH per AuthFailureWindow, then 421 lockout
    public TimeSpan AuthFailureWindow { get; set; } = TimeSpan.FromMinutes(5);
    public IList<string> RateLimitExceptions { get; set; } = ["127.0.0.0/8", "::1/128"];   // smtpd_client_event_limit_exceptions
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(300);     // smtpd_timeout
    public TimeSpan DataTimeout { get; set; } = TimeSpan.FromSeconds(300);     // a whole DATA/BDAT read, plus size / rate
    public int MinimumDataRate { get; set; } = 500;                    // smtpd_min_data_rate, octets/s; 0 = off
    public TimeSpan EnqueueTimeout { get; set; } = TimeSpan.FromSeconds(60);
    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Wait this long before the greeting; a client that talks first is an early talker (554 5.5.0). Zero: no wait.</summary>
    public TimeSpan GreetingDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Bare CR/LF in content: normalised to CRLF (default, as Postfix 3.9) or refused with 550 5.5.2.</summary>
    public BareLineEndingMode BareLineEndings { get; set; } = BareLineEndingMode.Normalize;
}
