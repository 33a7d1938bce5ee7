using System.Net;
using System.Text.Json;
using Relay.Db;
using Relay.EndToEnd.Tests.Delivery;
using Relay.TestKit;
using Relay.TestKit.Postgres;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Operations;

/// <summary>
/// /healthz says the process answers, /readyz that its database does: with PostgreSQL stopped (a private cluster of
/// this test's own, never the shared one) /readyz turns 503 and names the database while /healthz stays 200, and both
/// are 200 again once it is back.
/// </summary>
public sealed class ReadinessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Readiness_follows_the_database_while_liveness_stays_up()
    {
        await using var cluster = await PrivatePostgresCluster.StartAsync();
        await using (var db = new RelayDatabase(cluster.ConnectionString))
            await db.Migrator().ApplyAsync();
        var port = Processes.FreeTcpPort(IPAddress.Loopback);
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = cluster.ConnectionString,
            ["Relay__Hostname"] = "relay.e2e.test",
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-e2e-ready-").FullName,
            ["Relay__Metrics__Listen"] = $"127.0.0.1:{port}",
        };
        await using var relay = RelayProcess.Start(env, "serve", "--roles", "delivery");
        using var endpoint = new OperationsEndpoint(port);
        try
        {
            await relay.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, (await endpoint.GetAsync("/healthz")).Status);
            var ready = await endpoint.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.Status);
            Assert.Equal("ok", Json(ready.Body).GetProperty("database").GetString());

            await cluster.StopServerAsync();
            var down = await endpoint.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.Status);
            var detail = Json(down.Body);
            Assert.Equal("not-ready", detail.GetProperty("status").GetString());
            Assert.StartsWith("unreachable", detail.GetProperty("database").GetString());
            Assert.Equal(HttpStatusCode.OK, (await endpoint.GetAsync("/healthz")).Status);
            Assert.False(relay.HasExited, "the relay exited when the database went away:\n" + relay.Output);

            await cluster.StartServerAsync();
            var back = await endpoint.GetAsync("/readyz");
            Assert.True(back.Status == HttpStatusCode.OK, back.Body);
        }
        finally
        {
            output.WriteLine(relay.Output);
        }
    }

    /// <summary>
    /// With Relay:Ipsec:Enabled and a control socket where no pluto listens (a path that does not exist), /readyz stays
    /// ready but its detail carries a warning naming the socket; /healthz stays alive-only. Real `ipsec whack` (libreswan).
    /// </summary>
    [Fact]
    public async Task Readiness_warns_when_the_ipsec_sidecar_does_not_answer()
    {
        await using var queue = await DeliveryQueue.CreateAsync("e2e_ready_ipsec");
        var port = Processes.FreeTcpPort(IPAddress.Loopback);
        var data = Directory.CreateTempSubdirectory("relay-e2e-ready-ipsec-").FullName;
        var socket = Path.Combine(data, "no-pluto", "pluto.ctl");
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = queue.ConnectionString,
            ["Relay__Hostname"] = "relay.e2e.test",
            ["Relay__DataDirectory"] = data,
            ["Relay__Metrics__Listen"] = $"127.0.0.1:{port}",
            ["Relay__Ipsec__Enabled"] = "true",
            ["Relay__Ipsec__ControlSocket"] = socket,
        };
        await using var relay = RelayProcess.Start(env, "serve", "--roles", "delivery");
        using var endpoint = new OperationsEndpoint(port);
        try
        {
            await relay.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));
            // The first check runs as the role starts; give it a bounded few seconds to land.
            string? warning = null;
            var ready = (Status: HttpStatusCode.OK, Body: "");
            for (var i = 0; i < 50 && warning is null; i++)
            {
                ready = await endpoint.GetAsync("/readyz");
                if (Json(ready.Body).GetProperty("warnings").TryGetProperty("ipsec", out var w)) warning = w.GetString();
                else await Task.Delay(200);
            }
            Assert.True(warning is not null, "no ipsec warning in /readyz: " + ready.Body);
            Assert.Contains(socket, warning, StringComparison.Ordinal);
            Assert.Contains("unreachable", warning, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, ready.Status);
            Assert.Equal("ready", Json(ready.Body).GetProperty("status").GetString());
            Assert.False(Json(ready.Body).GetProperty("checks").TryGetProperty("ipsec", out _), ready.Body);
            var live = await endpoint.GetAsync("/healthz");
            Assert.Equal((HttpStatusCode.OK, "ok\n"), (live.Status, live.Body));
        }
        finally
        {
            output.WriteLine(relay.Output);
        }
    }

    private static JsonElement Json(string body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }
}
