using System.CommandLine;

namespace Relay.Server.Cli;

/// <summary>The commands beyond serve and migrate, one file each in this folder.</summary>
internal static class CommandRegistry
{
    public static IEnumerable<Command> Extra()
    {
        yield return DnsCommand.Build();
        yield return TlsaCommand.Build();
    }
}
