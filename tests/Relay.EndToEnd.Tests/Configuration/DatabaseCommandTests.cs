using Relay.TestKit.Postgres;

namespace Relay.EndToEnd.Tests.Configuration;

/// <summary>CLI verbs that use the database: a schema that is not migrated, and destinations `relay policy set` must refuse.</summary>
public class DatabaseCommandTests
{
    [Theory]
    [InlineData("queue", "list")]
    [InlineData("queue", "show", "0123456789ABCDEF")]
    [InlineData("policy", "list")]
    [InlineData("policy", "set", "example.com", "dane")]
    [InlineData("peers", "forget", "mx.example.com")]
    [InlineData("ipsec", "class", "list")]
    [InlineData("ipsec", "class", "set", "192.0.2.0/24", "private")]
    public async Task Commands_on_an_unmigrated_database_say_run_relay_migrate_in_one_line(params string[] command)
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("e2e_cfg_unmigrated");
        var (code, _, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string> { ["Relay__Database"] = database }, command);
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("Relay:Database", line);
        Assert.Contains("schema is missing migrations 1, 2", line);
        Assert.EndsWith("run `relay migrate`", line);
    }

    [Theory]
    [InlineData("[")]
    [InlineData("[not an address")]
    [InlineData("[999.1.1.1]:25")]
    [InlineData("[127.0.0.1]:99999")]
    [InlineData("[127.0.0.1]:0")]
    [InlineData("[127.0.0.1]x")]
    [InlineData("127.0.0.1")]
    [InlineData("999")]
    [InlineData("example.com:70000")]
    [InlineData("exa mple.com")]
    public async Task Policy_set_refuses_a_broken_destination_and_stores_nothing(string destination)
    {
        var database = await ListenerConflictTests.MigratedDatabaseAsync("e2e_cfg_policy");
        var env = new Dictionary<string, string> { ["Relay__Database"] = database };

        var (code, _, stderr) = await RelayProcess.RunAsync(env, "policy", "set", destination, "dane");

        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains($"'{destination}'", line);
        var list = await RelayProcess.RunAsync(env, "policy", "list", "--json");
        Assert.Equal(0, list.ExitCode);
        Assert.Equal("[]", list.Stdout.Trim());
    }

    [Theory]
    [InlineData("[127.0.0.1]", "[127.0.0.1]:25")]
    [InlineData("[::1]:2525", "[::1]:2525")]
    [InlineData("Mail.Internal:2525", "mail.internal:2525")]
    [InlineData(".Example.COM.", ".example.com")]
    public async Task Policy_set_stores_a_good_destination_in_its_canonical_form(string destination, string stored)
    {
        var database = await ListenerConflictTests.MigratedDatabaseAsync("e2e_cfg_policy_ok");
        var (code, stdout, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string> { ["Relay__Database"] = database },
            "policy", "set", destination, "encrypt");
        Assert.True(code == 0, stderr);
        Assert.Equal($"{stored}: encrypt", stdout.Trim());
    }
}
