using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Server.Configuration;
using Relay.Server.Operations;
using Relay.Inbound;
using Relay.Smtp.Server;

namespace Relay.Server.Roles;

/// <summary>`--roles smtp`: the inbound listener with its options taken from the validated configuration.</summary>
internal sealed class SmtpRoleAdapter(RelayConfig config, RelayDatabase db, ILoggerFactory loggers, ServerHealth health) : IRole
{
    private SmtpRole? role;
    private OwnTlsaMonitor? tlsa;

    public string Name => "smtp";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        role = new SmtpRole(Options(config), db, loggers.CreateLogger("smtp"));
        try
        {
            // The listener logs each endpoint it bound itself; saying it again here would be a second announcement.
            await role.StartAsync(cancellationToken);
        }
        catch (ListenerBindException e)
        {
            var key = e.Kind switch { ListenerKind.Submission => "Relay:Smtp:Submission", ListenerKind.ImplicitTls => "Relay:Smtp:ImplicitTls", _ => "Relay:Smtp:Listen" };
            throw new ConfigException(key, e.EndPoint.ToString(), e.Message);
        }
        // After the listener started: it generates the self-signed certificate on first start, which is then what is checked.
        tlsa = new OwnTlsaMonitor(config, db, health, loggers.CreateLogger("smtp"));
        tlsa.Start();
    }

    public async Task StopAsync(TimeSpan drain)
    {
        if (tlsa is not null) await tlsa.DisposeAsync();
        tlsa = null;
        if (role is not null) await role.StopAsync(drain);
    }

    public async ValueTask DisposeAsync()
    {
        if (tlsa is not null) await tlsa.DisposeAsync();
        if (role is not null) await role.DisposeAsync();
    }

    /// <summary>Maps Relay:* keys (DESIGN.md § Contracts) and the listener's own Relay:Smtp:* extras.</summary>
    internal static SmtpListenerOptions Options(RelayConfig config)
    {
        var relay = config.Raw;
        var smtp = relay.GetSection("Smtp");
        if (config.SmtpListen.Count + config.SmtpSubmission.Count + config.SmtpImplicitTls.Count == 0)
            throw new ConfigException("Relay:Smtp:Listen", null,
                "the smtp role has no endpoint: set Relay:Smtp:Listen, Submission or ImplicitTls (e.g. [\"0.0.0.0:25\"]), or leave smtp out of --roles");
        var options = new SmtpListenerOptions
        {
            Hostname = config.Hostname,
            Listen = config.SmtpListen.ToList(),
            Submission = config.SmtpSubmission.ToList(),
            ImplicitTls = config.SmtpImplicitTls.ToList(),
            Domains = config.Domains.ToList(),
            TrustedNetworks = config.TrustedNetworks.Select(n => n.ToString()).ToList(),
            CertificatePath = config.TlsCertificate,
            KeyPath = config.TlsKey,
            GeneratedCertificateDirectory = config.DataDirectory,
            MessageSizeLimit = ConfigValues.Integer(relay, "Smtp:MessageSizeLimit"),
            RecipientLimit = ConfigValues.Integer(relay, "Smtp:RecipientLimit"),
            HopCountLimit = ConfigValues.Integer(relay, "Smtp:HopCountLimit"),
            ErrorLimit = ConfigValues.Integer(relay, "Smtp:ErrorLimit"),
            SoftErrorLimit = ConfigValues.Integer(relay, "Smtp:SoftErrorLimit"),
            ErrorSleep = ConfigValues.Duration(relay, "Smtp:ErrorSleep"),
            JunkCommandLimit = ConfigValues.Integer(relay, "Smtp:JunkCommandLimit"),
            TextLineLimit = ConfigValues.Integer(relay, "Smtp:TextLineLimit"),
            ConnectionLimit = ConfigValues.Integer(relay, "Smtp:ConnectionLimit"),
            ConnectionLimitPerClient = ConfigValues.Integer(relay, "Smtp:ConnectionLimitPerClient"),
            StressThresholdPercent = ConfigValues.Integer(relay, "Smtp:StressThreshold"),
            StressIdleTimeout = ConfigValues.Duration(relay, "Smtp:StressIdleTimeout"),
            ConnectionRateLimit = ConfigValues.Integer(relay, "Smtp:ConnectionRateLimit"),
            MessageRateLimit = ConfigValues.Integer(relay, "Smtp:MessageRateLimit"),
            AuthFailureLimit = ConfigValues.Integer(relay, "Smtp:AuthFailureLimit"),
            AuthFailureWindow = ConfigValues.Duration(relay, "Smtp:AuthFailureWindow"),
            // As Postfix's smtpd_client_event_limit_exceptions = $mynetworks: trusted networks are never rate-limited.
            RateLimitExceptions = RelayConfig.Entries(relay, "Smtp:RateLimitExceptions").Select(e => ConfigParsers.Cidr(e.Key, e.Value).ToString())
                .Concat(config.TrustedNetworks.Select(n => n.ToString())).ToList(),
            HeaderSizeLimit = ConfigValues.Integer(relay, "Smtp:HeaderSizeLimit"),
            DataMemoryLimit = ConfigValues.Integer(relay, "Smtp:DataMemoryLimit"),
            // While running, the listener leaves this much free: the pool may still grow, workers connect, threads start.
            KeepFreeDescriptors = Consumers(config) is var (pool, workers) ? pool + 2 * workers + 128 : 256,
            MinimumDataRate = ConfigValues.Integer(relay, "Smtp:MinimumDataRate"),
            IdleTimeout = ConfigValues.Duration(relay, "Smtp:IdleTimeout"),
            DataTimeout = ConfigValues.Duration(relay, "Smtp:DataTimeout"),
            GreetingDelay = ConfigValues.Duration(relay, "Smtp:GreetingDelay"),
            CommandLineLimit = ConfigValues.Integer(relay, "Smtp:CommandLineLimit"),
            EnqueueTimeout = ConfigValues.Duration(relay, "Smtp:EnqueueTimeout"),
            TlsHandshakeTimeout = ConfigValues.Duration(relay, "Smtp:TlsHandshakeTimeout"),
            AskClientCertificate = ConfigValues.Boolean(relay, "Smtp:AskClientCertificate"),
            BareLineEndings = ConfigValues.Choice(relay, "Smtp:BareLineEndings") == "reject" ? BareLineEndingMode.Reject : BareLineEndingMode.Normalize,
        };
        foreach (var domain in smtp.GetSection("Recipients").GetChildren())
        {
            var key = $"Relay:Smtp:Recipients:{domain.Key}";
            var name = ConfigParsers.Domain(key, domain.Key);
            if (!config.Domains.Contains(name))
                throw new ConfigException(key, domain.Key, "a recipient list for a domain that is not in Relay:Domains");
            options.Recipients[name] = domain.GetChildren().Select(c => c.Value ?? "").Where(v => v.Length > 0).ToList();
        }
        foreach (var user in smtp.GetSection("Credentials").GetChildren())
        {
            // Checked here, with the admin login's own check, so a bad hash stops start-up instead of
            // failing every AUTH as "wrong password"; the hash itself stays out of the message.
            if (!PasswordHasher.IsWellFormed(user.Value, out var problem))
                throw new ConfigException($"Relay:Smtp:Credentials:{user.Key}", null, problem);
            options.Credentials[user.Key] = user.Value!;
        }
        return options;
    }

    /// <summary>
    /// Loads the configured certificate and key (PEM), so a wrong file (a key given as the certificate, a mismatched
    /// pair) stops start-up with one line before anything binds; the generated pair needs no check.
    /// </summary>
    internal static void CheckCertificate(RelayConfig config)
    {
        if (config.TlsCertificate is null || config.TlsKey is null) return;
        try
        {
            using var _ = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(config.TlsCertificate, config.TlsKey);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ConfigException("Relay:Tls:Certificate", config.TlsCertificate,
                $"cannot load it with Relay:Tls:Key = \"{config.TlsKey}\" (both PEM, the certificate first): {OneLine(e.Message)}");
        }
    }

    /// <summary>Descriptors kept free beside the sessions: the runtime's own files, logs, listeners, the metrics and web listeners, DNS.</summary>
    internal const int BaseHeadroom = 384;

    /// <summary>
    /// Refuses a Relay:Smtp:ConnectionLimit that the open-file limit cannot hold: every session is a descriptor, and
    /// beside them the process needs room for its PostgreSQL pool (Maximum Pool Size, 100 by default), outbound
    /// delivery sessions (Relay:Delivery:Workers, each a socket and its DNS queries), the sockets the listener is
    /// telling 421, and <see cref="BaseHeadroom"/> for everything else. Run out anyway and accept(2) fails
    /// (handled), but so does every other open in the process, the runtime's own included.
    /// </summary>
    internal static void CheckOpenFiles(RelayConfig config, SmtpListenerOptions options, long? openFileLimit)
    {
        if (openFileLimit is not long limit) return;
        var (pool, workers) = Consumers(config);
        var headroom = BaseHeadroom + pool + 2 * workers + SmtpRole.RefusalAllowance;
        var needed = (long)options.ConnectionLimit + headroom;
        if (needed <= limit) return;
        throw new ConfigException("Relay:Smtp:ConnectionLimit", options.ConnectionLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            $"needs {needed} open files ({options.ConnectionLimit} sessions + {headroom} headroom: {pool} PostgreSQL connections, " +
            $"{2 * workers} for {workers} delivery workers, {SmtpRole.RefusalAllowance} for refused connections, {BaseHeadroom} for logs and the runtime), " +
            $"but the open-file limit (ulimit -n) is {limit}: " +
            (limit - headroom >= 1 ? $"set it to at most {limit - headroom} or raise the open-file limit to {needed} (systemd LimitNOFILE=)"
                                   : $"raise the open-file limit to at least {needed} (systemd LimitNOFILE=)"));
    }

    // The other descriptor users the headroom is sized for: the PostgreSQL pool and the delivery workers.
    private static (int Pool, int Workers) Consumers(RelayConfig config)
    {
        var pool = 100;
        if (config.Database is { } database)
        {
            try { pool = new Npgsql.NpgsqlConnectionStringBuilder(database).MaxPoolSize; }
            catch (ArgumentException) { } // a bad connection string is refused with its own key when the database is opened
        }
        return (pool, ConfigValues.Integer(config.Raw, "Delivery:Workers"));
    }

    /// <summary>Legal values that are probably not meant.</summary>
    internal static IReadOnlyList<string> Warnings(SmtpListenerOptions options)
    {
        var warnings = new List<string>();
        if (options.IdleTimeout < TimeSpan.FromMinutes(5))
            warnings.Add($"Relay:Smtp:IdleTimeout = \"{ConfigParsers.FormatDuration(options.IdleTimeout)}\": shorter than the 5 minutes RFC 5321 4.5.3.2.7 asks servers to wait; slow clients will get 421");
        if (options.GreetingDelay >= options.IdleTimeout)
            warnings.Add($"Relay:Smtp:GreetingDelay = \"{ConfigParsers.FormatDuration(options.GreetingDelay)}\": not shorter than Relay:Smtp:IdleTimeout; clients will give up before the banner");
        return warnings;
    }

    internal static string OneLine(string message) => string.Join(' ', message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}
