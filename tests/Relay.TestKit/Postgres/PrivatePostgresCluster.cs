using System.Net;

namespace Relay.TestKit.Postgres;

/// <summary>
/// A PostgreSQL cluster of one test's own, for tests that stop and start the server (readiness, outages): the shared
/// cluster of <see cref="PostgresCluster"/> must never be stopped under the other tests. Same port across restarts, so
/// a connection string handed to a relay stays valid. Start-up ≈ 1-2 s.
/// </summary>
public sealed class PrivatePostgresCluster : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
    private readonly string bin;
    private readonly string root;
    private readonly int port;

    private PrivatePostgresCluster(string bin, string root, int port) => (this.bin, this.root, this.port) = (bin, root, port);

    private string Data => Path.Combine(root, "data");

    public string ConnectionString => $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=3;Pooling=false";

    public static async Task<PrivatePostgresCluster> StartAsync()
    {
        var bin = PostgresCluster.FindBinDirectory();
        var root = Directory.CreateTempSubdirectory("relay-pg-private-").FullName;
        if (Processes.IsRoot)
            await Processes.RunAsync("chown", ["postgres:postgres", root], TimeSpan.FromSeconds(10));
        var cluster = new PrivatePostgresCluster(bin, root, Processes.FreeTcpPort(IPAddress.Loopback));
        await Processes.RunAsUserAsync("postgres", $"{bin}/initdb -D {Processes.Quote(cluster.Data)} -A trust -U postgres --no-sync -E UTF8 >/dev/null", Timeout);
        await cluster.StartServerAsync();
        return cluster;
    }

    public Task StartServerAsync() => Processes.RunAsUserAsync("postgres",
        $"{bin}/pg_ctl -D {Processes.Quote(Data)} -w -t 60 -l {Processes.Quote(Data + "/server.log")} -o \"-p {port} -k {root} -h 127.0.0.1\" start >/dev/null",
        Timeout);

    /// <summary>An outage: immediate shutdown, as when the server crashes.</summary>
    public Task StopServerAsync() => Processes.RunAsUserAsync("postgres", $"{bin}/pg_ctl -D {Processes.Quote(Data)} -m immediate stop >/dev/null", Timeout);

    public async ValueTask DisposeAsync()
    {
        try { await StopServerAsync(); } catch (InvalidOperationException) { /* already stopped */ }
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
