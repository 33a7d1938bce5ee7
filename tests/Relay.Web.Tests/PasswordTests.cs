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
        var command = WebHashPasswordCommand.Build(new StringReader("pass word long\n"));
        var exit = command.Parse([]).Invoke(new InvocationConfiguration { Output = output, Error = new StringWriter() });
        Assert.Equal(0, exit);
        Assert.True(PasswordHasher.Verify("pass word long", output.ToString().Trim()));
    }

    [Fact]
    public void Hash_password_command_refuses_an_empty_password_with_exit_2()
    {
        var error = new StringWriter();
        var exit = WebHashPasswordCommand.Build(new StringReader("")).Parse([]).Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = error });
        Assert.Equal(2, exit);
        Assert.Contains("no password", error.ToString());
    }

    [Theory]
    [InlineData("x")]
    [InlineData("elevenchars")]
    public void Hash_password_command_refuses_a_too_short_password_with_exit_2(string password)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = WebHashPasswordCommand.Build(new StringReader(password + "\n")).Parse([]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        Assert.Equal(2, exit);
        Assert.Equal("", output.ToString());
        Assert.Contains($"use at least {WebHashPasswordCommand.MinimumLength}", error.ToString());
    }
}
