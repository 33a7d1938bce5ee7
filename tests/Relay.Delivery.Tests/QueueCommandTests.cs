using System.CommandLine;
using System.Text.Json;
using Relay.Server.Cli;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

public class QueueCommandTests
{
    private static async Task<(int Exit, string Out, string Err)> RunAsync(Harness h, params string[] args)
    {
        var root = new RootCommand { QueueCommand.Build(() => h.ConnectionString, () => "relay.test") };
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task List_json_gives_id_sender_recipients_size_and_iso_received()
    {
        await using var h = await Harness.CreateAsync();
        var id = await h.EnqueueAsync("alice@origin.test", ["bob@list.test", "carol@list.test"]);

        var (exit, output, _) = await RunAsync(h, "queue", "list", "--json");

        Assert.Equal(0, exit);
        var item = Assert.Single(JsonDocument.Parse(output).RootElement.EnumerateArray());
        Assert.Equal(id, item.GetProperty("id").GetString());
        Assert.Equal("alice@origin.test", item.GetProperty("sender").GetString());
        Assert.Equal(["bob@list.test", "carol@list.test"], item.GetProperty("recipients").EnumerateArray().Select(e => e.GetString() ?? "").ToArray());
        Assert.True(item.GetProperty("size").GetInt64() > 0);
        Assert.True(DateTimeOffset.TryParse(item.GetProperty("received").GetString(), out _));
    }

    [Fact]
    public async Task Show_json_has_recipient_states_and_attempts_with_transport_and_tls()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript());
        var id = await h.EnqueueAsync("alice@origin.test", ["bob@show.test"]);
        await h.Role(Harness.Options(("show.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        var (exit, output, _) = await RunAsync(h, "queue", "show", id, "--json");

        Assert.Equal(0, exit);
        var doc = JsonDocument.Parse(output).RootElement;
        Assert.Equal(id, doc.GetProperty("id").GetString());
        Assert.Equal("delivered", doc.GetProperty("recipients")[0].GetProperty("state").GetString());
        var attempt = doc.GetProperty("attempts")[0];
        Assert.Equal("127.0.0.1", attempt.GetProperty("address").GetString());
        Assert.Equal("dot", attempt.GetProperty("stage").GetString());
        Assert.Equal("encrypted", attempt.GetProperty("transport").GetString());
        Assert.Equal("none", attempt.GetProperty("how").GetString());
        Assert.StartsWith("250", attempt.GetProperty("reply").GetString());
        Assert.Equal(PeerCertificates.SpkiSha256(peer.Certificate), attempt.GetProperty("tls").GetProperty("spki").GetString());
        Assert.StartsWith("TLSv1.", attempt.GetProperty("tls").GetProperty("version").GetString());
        Assert.Equal("none", attempt.GetProperty("network").GetString());
        Assert.True(attempt.TryGetProperty("peer", out _));
        Assert.True(attempt.TryGetProperty("reason", out _));
    }

    [Fact]
    public async Task Unknown_id_exits_1_and_malformed_id_exits_2()
    {
        await using var h = await Harness.CreateAsync();
        var unknown = Relay.Db.QueueId.New(DateTimeOffset.UtcNow);
        foreach (var verb in new[] { "show", "retry", "hold", "release", "delete", "bounce" })
        {
            var (exit, _, error) = await RunAsync(h, "queue", verb, unknown);
            Assert.Equal(1, exit);
            Assert.Contains(unknown, error);
            Assert.Equal(2, (await RunAsync(h, "queue", verb, "not-an-id")).Exit);
        }
    }

    [Fact]
    public async Task Hold_stops_delivery_release_restores_it_and_delete_removes_the_message()
    {
        await using var h = await Harness.CreateAsync();
        var id = await h.EnqueueAsync("alice@origin.test", ["bob@hold.test"]);

        Assert.Equal(0, (await RunAsync(h, "queue", "hold", id)).Exit);
        Assert.Equal("held", Assert.Single((await h.ShowAsync(id)).Recipients).State);
        Assert.Equal(0, await h.Role(Harness.Options()).RunOnceAsync(CancellationToken.None));
        Assert.Equal(0, (await RunAsync(h, "queue", "release", id)).Exit);
        Assert.Equal("queued", Assert.Single((await h.ShowAsync(id)).Recipients).State);
        Assert.Equal(0, (await RunAsync(h, "queue", "delete", id)).Exit);
        Assert.Null(await h.Database.QueueReader.GetMessageAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Bounce_gives_up_every_waiting_recipient_and_queues_one_dsn()
    {
        await using var h = await Harness.CreateAsync();
        var id = await h.EnqueueAsync("alice@origin.test", ["bob@bounce.test", "carol@bounce.test"]);

        var (exit, output, _) = await RunAsync(h, "queue", "bounce", id, "--json");

        Assert.Equal(0, exit);
        var doc = JsonDocument.Parse(output).RootElement;
        Assert.Equal(2, doc.GetProperty("bounced").GetInt32());
        Assert.All((await h.ShowAsync(id)).Recipients, r => Assert.Equal("bounced", r.State));
        var dsn = Assert.Single(await h.BouncesAsync());
        Assert.Equal(doc.GetProperty("dsn").GetString(), dsn.QueueId);
        Assert.Contains("Final-Recipient: rfc822; carol@bounce.test", System.Text.Encoding.ASCII.GetString(dsn.Body));
        Assert.Equal(1, (await RunAsync(h, "queue", "bounce", id)).Exit); // nothing left to bounce
    }
}
