using System.CommandLine;

namespace Relay.Server.Cli;

/// <summary>The commands beyond serve and migrate, one file each in this folder.</summary>
internal static class CommandRegistry
{
    public static IEnumerable<Command> Extra()
    {
        yield return ConfigCommand.Build();
        yield return DnsCommand.Build();
        yield return TlsaCommand.Build();
        yield return DaneVerifyCommand.Build();
        yield return CheckCommand.Build();
        yield return PeersCommand.Build(CliContext.ConnectionString);
        yield return TlsRptCommand.Build();
        yield return PolicyCommand.Build();
        yield return IpsecCommand.Build();
        yield return QueueCommand.Build(CliContext.ConnectionString, () => CliContext.Config().Hostname);
        yield return new Command("web", "admin web UI tools") { WebHashPasswordCommand.Build() };
    }
}
