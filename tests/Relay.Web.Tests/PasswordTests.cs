using System.CommandLine;
using Relay.Db;
using Relay.Server.Cli;

namespace Relay.Web.Tests;

/// <summary>`relay web hash-password`; the hasher's own rules are tested in Relay.Db.Tests (PasswordHasherTests).</summary>
public sealed class PasswordTests
{
    [Fact]
    public void Hash_password_command_reads_stdin_and_prints_a_verifiable_hash()
    {
        var output = new StringWriter();
        var command = WebHashPasswordCommand.Build(new StringReader("pass word\n"));
        var exit = command.Parse([]).Invoke(new InvocationConfiguration { Output = output, Error = new StringWriter() });
        Assert.Equal(0, exit);
        Assert.True(PasswordHasher.Verify("pass word", output.ToString().Trim()));
    }

    [Fact]
    public void Hash_password_command_refuses_an_empty_password_with_exit_2()
    {
        var error = new StringWriter();
        var exit = WebHashPasswordCommand.Build(new StringReader("")).Parse([]).Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = error });
        Assert.Equal(2, exit);
        Assert.Contains("no password", error.ToString());
    }
}
