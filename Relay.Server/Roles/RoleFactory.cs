using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Server.Configuration;
using Relay.Server.Operations;

namespace Relay.Server.Roles;

/// <summary>Builds the roles named on `relay serve --roles`, wiring configuration into each.</summary>
internal static class RoleFactory
{
    public static readonly IReadOnlyList<string> Known = ["smtp", "delivery", "web"];

    /// <summary>
    /// Checks a role's configuration (files, certificates and keys included) without starting it, so `serve` fails
    /// before anything binds or connects. Returns warnings: values that are legal but probably not meant.
    /// </summary>
    public static IReadOnlyList<string> Validate(string name, RelayConfig config)
    {
        switch (name)
        {
            case "smtp":
                var smtp = SmtpRoleAdapter.Options(config);
                SmtpRoleAdapter.CheckCertificate(config);
                SmtpRoleAdapter.CheckOpenFiles(config, smtp, Relay.Inbound.OpenFileLimit.Current());
                return SmtpRoleAdapter.Warnings(smtp);
            case "delivery": return DeliveryOptionsReader.Warnings(DeliveryOptionsReader.Read(config));
            case "web": WebRoleAdapter.Validate(config); return [];
            default: throw new ConfigException("--roles", name, $"unknown role; expected {string.Join(", ", Known)}");
        }
    }

    public static IRole Create(string name, RelayConfig config, RelayDatabase db, ILoggerFactory loggers, ServerHealth health) => name switch
    {
        "smtp" => new SmtpRoleAdapter(config, db, loggers, health),
        "delivery" => new DeliveryRoleAdapter(config, db, loggers, health),
        "web" => new WebRoleAdapter(config, db, loggers),
        _ => throw new ConfigException("--roles", name, $"unknown role; expected {string.Join(", ", Known)}"),
    };
}
