using System.CommandLine;
using Relay.Server.Configuration;
using Relay.Server.Roles;

namespace Relay.Server.Cli;

/// <summary>
/// `relay config keys`: every configuration key with its type, range and default (README's table, from the schema);
/// `relay config check [--roles …]`: the checks `serve` makes before it binds or connects, and nothing else.
/// </summary>
internal static class ConfigCommand
{
    public static Command Build()
    {
        var keys = new Command("keys", "every configuration key with its type, range and default (Markdown)");
        keys.SetAction(async parse =>
        {
            await parse.InvocationConfiguration.Output.WriteAsync(ConfigMarkdown.Table());
            return RelayCli.Ok;
        });

        var roles = new Option<string>("--roles")
        {
            Description = $"roles whose configuration to check ({string.Join(", ", RoleFactory.Known)})",
            DefaultValueFactory = _ => string.Join(',', RoleFactory.Known),
        };
        var check = new Command("check", "check the configuration as `serve` would, without binding or connecting") { roles };
        check.SetAction(async parse =>
        {
            var names = ServeCommand.ParseRoles(parse.GetValue(roles) ?? "");
            var config = CliContext.Config();
            foreach (var warning in names.SelectMany(name => RoleFactory.Validate(name, config)).ToList())
                await parse.InvocationConfiguration.Error.WriteLineAsync($"relay: configuration warning: {warning}");
            await parse.InvocationConfiguration.Output.WriteLineAsync($"relay: configuration is valid for roles {string.Join(",", names)}");
            return RelayCli.Ok;
        });
        return new Command("config", "the configuration: its keys, and a check") { keys, check };
    }
}
