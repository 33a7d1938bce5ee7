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
        // The listener logs each endpoint it bound itself; saying it again here was the second announcement.
        await role.StartAsync(cancellationToken);
        // After the listener started: it generates the self-signed certificate on first start, which is then what is checked.
        tlsa = new OwnTlsaMonitor(config, health, loggers.CreateLogger("smtp"));
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
        var smtp = config.Raw.GetSection("Smtp");
        var defaults = new SmtpListenerOptions();
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
            MessageSizeLimit = ConfigParsers.Integer("Relay:Smtp:MessageSizeLimit", smtp["MessageSizeLimit"], (int)defaults.MessageSizeLimit, 1024, int.MaxValue),
            RecipientLimit = ConfigParsers.Integer("Relay:Smtp:RecipientLimit", smtp["RecipientLimit"], defaults.RecipientLimit, 1, 100_000),
            HopCountLimit = ConfigParsers.Integer("Relay:Smtp:HopCountLimit", smtp["HopCountLimit"], defaults.HopCountLimit, 1, 1000),
            ErrorLimit = ConfigParsers.Integer("Relay:Smtp:ErrorLimit", smtp["ErrorLimit"], defaults.ErrorLimit, 1, 1000),
            TextLineLimit = ConfigParsers.Integer("Relay:Smtp:TextLineLimit", smtp["TextLineLimit"], defaults.TextLineLimit, 0, 1_000_000),
            ConnectionLimit = ConfigParsers.Integer("Relay:Smtp:ConnectionLimit", smtp["ConnectionLimit"], defaults.ConnectionLimit, 1, 100_000),
            ConnectionLimitPerClient = ConfigParsers.Integer("Relay:Smtp:ConnectionLimitPerClient", smtp["ConnectionLimitPerClient"],
                defaults.ConnectionLimitPerClient, 1, 100_000),
            MinimumDataRate = ConfigParsers.Integer("Relay:Smtp:MinimumDataRate", smtp["MinimumDataRate"], defaults.MinimumDataRate, 0, int.MaxValue),
            IdleTimeout = ConfigParsers.Duration("Relay:Smtp:IdleTimeout", smtp["IdleTimeout"], defaults.IdleTimeout),
            DataTimeout = ConfigParsers.Duration("Relay:Smtp:DataTimeout", smtp["DataTimeout"], defaults.DataTimeout),
            GreetingDelay = ConfigParsers.Duration("Relay:Smtp:GreetingDelay", smtp["GreetingDelay"], defaults.GreetingDelay),
            CommandLineLimit = ConfigParsers.Integer("Relay:Smtp:CommandLineLimit", smtp["CommandLineLimit"], defaults.CommandLineLimit, 512, 65_536),
            EnqueueTimeout = ConfigParsers.Duration("Relay:Smtp:EnqueueTimeout", smtp["EnqueueTimeout"], defaults.EnqueueTimeout),
            TlsHandshakeTimeout = ConfigParsers.Duration("Relay:Smtp:TlsHandshakeTimeout", smtp["TlsHandshakeTimeout"], defaults.TlsHandshakeTimeout),
            AskClientCertificate = ConfigParsers.Boolean("Relay:Smtp:AskClientCertificate", smtp["AskClientCertificate"], defaults.AskClientCertificate),
            BareLineEndings = smtp["BareLineEndings"]?.Trim().ToLowerInvariant() switch
            {
                null or "" or "normalize" => BareLineEndingMode.Normalize,
                "reject" => BareLineEndingMode.Reject,
                var other => throw new ConfigException("Relay:Smtp:BareLineEndings", other, "expected normalize or reject"),
            },
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
}
