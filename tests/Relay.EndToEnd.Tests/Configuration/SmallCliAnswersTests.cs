namespace Relay.EndToEnd.Tests.Configuration;

/// <summary>The smaller CLI answers of issue 15: bad arguments exit 2 with one line, negative answers go to stderr.</summary>
public class SmallCliAnswersTests
{
    [Theory]
    [InlineData("--limit -1", "queue", "list", "--limit", "-1")]
    [InlineData("--limit 0", "queue", "list", "--limit", "0")]
    [InlineData("at most two --name", "dane", "verify", "--tlsa", "3 1 1 00", "--chain", "/dev/null", "--name", "a.example", "--name", "b.example", "--name", "c.example")]
    [InlineData("no certificate yet", "tlsa")]
    public async Task Bad_arguments_exit_2_in_one_line(string named, params string[] command)
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string>
        {
            ["Relay__Database"] = "Host=127.0.0.1;Port=1",
            ["Relay__DataDirectory"] = Path.Combine(Path.GetTempPath(), $"relay-nocert-{Guid.NewGuid():N}"),
        }, command);
        Assert.Equal(2, code);
        Assert.Contains(named, Assert.Single(stderr.Trim().Split('\n')));
    }

    [Fact]
    public async Task Peers_forget_of_an_unknown_peer_answers_on_stderr_with_exit_1()
    {
        var database = await ListenerConflictTests.MigratedDatabaseAsync("e2e_cfg_peers");
        var (code, stdout, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string> { ["Relay__Database"] = database },
            "peers", "forget", "mx.nowhere.example");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("relay: no recorded peer 'mx.nowhere.example'", stderr.Trim());
    }

    [Fact]
    public async Task Peers_forget_of_a_bad_peer_name_exits_2_naming_the_value()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string> { ["Relay__Database"] = "Host=127.0.0.1;Port=1" },
            "peers", "forget", "mx..nowhere");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("relay: PEER 'mx..nowhere' is not a host name or IP address", stderr.Trim());
    }
}
