using System.CommandLine;
using Microsoft.Extensions.Configuration;
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

    [Fact]
    public void Configuration_keys_map_to_web_options_with_loopback_default()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Relay:Web:AdminPasswordHash"] = "pbkdf2-sha256$10000$x$y",
        }).Build();
        var options = WebConfiguration.FromConfiguration(configuration);
        Assert.Empty(options.Listen);   // WebHost then listens on WebOptions.DefaultListen
        Assert.Equal(["127.0.0.1:8080"], WebOptions.DefaultListen);
        Assert.Equal("admin", options.AdminUser);
        Assert.Equal("pbkdf2-sha256$10000$x$y", options.AdminPasswordHash);

        var listed = WebConfiguration.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Relay:Web:Listen:0"] = "127.0.0.1:9090", ["Relay:Web:Listen:1"] = "[::1]:9090", ["Relay:Web:AdminUser"] = "ops",
        }).Build());
        Assert.Equal(["127.0.0.1:9090", "[::1]:9090"], listed.Listen);
        Assert.Equal("ops", listed.AdminUser);
        Assert.Null(listed.AdminPasswordHash);
    }
}
