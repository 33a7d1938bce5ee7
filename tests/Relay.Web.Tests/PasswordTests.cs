using System.CommandLine;
using Relay.Server.Cli;
using Relay.Web;
using Relay.Web.Auth;

namespace Relay.Web.Tests;

public sealed class PasswordTests
{
    [Fact]
    public void A_hash_verifies_its_password_only_and_is_salted()
    {
        var hash = PasswordHasher.Hash("s3cret", 10_000);
        Assert.StartsWith("pbkdf2-sha256$10000$", hash);
        Assert.True(PasswordHasher.Verify("s3cret", hash));
        Assert.False(PasswordHasher.Verify("s3cret ", hash));
        Assert.False(PasswordHasher.Verify("", hash));
        Assert.NotEqual(hash, PasswordHasher.Hash("s3cret", 10_000));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hunter2")]
    [InlineData("pbkdf2-sha256$10$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]   // too few iterations
    [InlineData("pbkdf2-sha1$10000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha256$10000$not base64!$AAAA")]
    public void Malformed_hashes_never_verify_and_are_reported(string hash)
    {
        Assert.False(PasswordHasher.Verify("anything", hash));
        Assert.False(PasswordHasher.IsWellFormed(hash, out var problem));
        Assert.NotEmpty(problem);
    }

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
