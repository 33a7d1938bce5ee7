using Relay.TestKit.Postgres;

namespace Relay.EndToEnd.Tests.Configuration;

/// <summary>
/// A port serves one listener: a second `relay serve` on a taken port, or a port another program holds, is refused
/// with one line naming the endpoint (exit 2) instead of sharing connections through SO_REUSEPORT.
/// </summary>
public class ListenerConflictTests
{
    [Fact]
    public async Task A_second_relay_on_the_same_port_exits_2_naming_the_endpoint()
    {
        var database = await MigratedDatabaseAsync("e2e_cfg_twice");
        int port;
        using (BadConfigurationTests.HoldFreePort(out port)) { }
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = database,
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-e2e-twice-").FullName,
            ["Relay__Smtp__Listen__0"] = $"127.0.0.1:{port}",
        };
        await using var first = RelayProcess.Start(env, "serve", "--roles", "smtp");
        await first.WaitForOutputAsync("role smtp started", TimeSpan.FromSeconds(30));

        var (code, _, stderr) = await RelayProcess.RunAsync(env, "serve", "--roles", "smtp");

        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Equal($"relay: configuration: Relay:Smtp:Listen = \"127.0.0.1:{port}\": cannot listen on 127.0.0.1:{port} (Smtp): " +
            "address already in use (another process listens there)", line);
        Assert.False(first.HasExited, "the first relay keeps serving");
    }

    [Fact]
    public async Task A_web_port_held_by_another_program_exits_2_in_one_line()
    {
        var database = await MigratedDatabaseAsync("e2e_cfg_webport");
        using var held = BadConfigurationTests.HoldFreePort(out var port);
        var (code, _, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string>
        {
            ["Relay__Database"] = database,
            ["Relay__Web__Listen__0"] = $"127.0.0.1:{port}",
            ["Relay__Web__AdminUser"] = "admin",
            ["Relay__Web__AdminPasswordHash"] = global::Relay.Db.PasswordHasher.Hash("pw", global::Relay.Db.PasswordHasher.MinimumIterations),
        }, "serve", "--roles", "web");
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith($"relay: configuration: Relay:Web:Listen = \"127.0.0.1:{port}\"", line);
        Assert.Contains("address already in use", line);
    }

    [Fact]
    public async Task Two_endpoints_on_one_port_in_one_configuration_are_refused()
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string>
        {
            ["Relay__Database"] = "Host=127.0.0.1;Port=1",
            ["Relay__Smtp__Listen__0"] = "127.0.0.1:2525",
            ["Relay__Web__Listen__0"] = "[::]:2525",
        }, "config", "check");
        Assert.Equal(2, code);
        Assert.Equal("relay: configuration: Relay:Web:Listen:0 = \"[::]:2525\": the same endpoint as Relay:Smtp:Listen:0 = \"127.0.0.1:2525\"; " +
            "each endpoint may be listened on once", Assert.Single(stderr.Trim().Split('\n')));
    }

    internal static async Task<string> MigratedDatabaseAsync(string prefix)
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync(prefix);
        var migrate = await RelayProcess.RunAsync(new Dictionary<string, string> { ["Relay__Database"] = database }, "migrate");
        Assert.True(migrate.ExitCode == 0, migrate.Stderr);
        return database;
    }
}
