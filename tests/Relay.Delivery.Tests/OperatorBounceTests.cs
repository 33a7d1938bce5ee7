using System.Net;
using Relay.TestKit;

namespace Relay.Delivery.Tests;

public class OperatorBounceTests
{
    [Fact]
    public async Task A_bounce_requested_in_the_web_ui_is_carried_out_by_delivery_without_contacting_a_peer()
    {
        await using var harness = await Harness.CreateAsync();
        // A route to a port nothing listens on: any contact attempt would be recorded as a failed connect.
        var closedPort = Processes.FreeTcpPort(IPAddress.Loopback);
        var options = Harness.Options(("bounce.test", $"[127.0.0.1]:{closedPort}"));
        var queueId = await harness.EnqueueAsync("sender@origin.test", ["one@bounce.test", "two@bounce.test"]);

        Assert.Equal(2, await harness.Database.Admin.RequestBounceAsync(queueId, CancellationToken.None));
        var claimed = await harness.Role(options).RunOnceAsync(CancellationToken.None);

        Assert.Equal(2, claimed);
        var detail = await harness.ShowAsync(queueId);
        Assert.All(detail.Recipients, r => Assert.Equal("bounced", r.State));
        Assert.Empty(detail.Attempts);
        var dsn = Assert.Single(await harness.BouncesAsync());
        Assert.Equal("", dsn.Sender);
        Assert.Contains("one@bounce.test", System.Text.Encoding.ASCII.GetString(dsn.Body));
    }
}
