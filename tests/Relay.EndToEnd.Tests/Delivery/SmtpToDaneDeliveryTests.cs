using System.Net;
using System.Text.RegularExpressions;
using Relay.TestKit;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// The whole path in one process, as `./run.sh` runs it: a client hands mail to the smtp role, which queues it,
/// and the delivery role of the same `relay serve --roles smtp,delivery` takes it to the DANE-protected Postfix.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed partial class SmtpToDaneDeliveryTests(DeliveryWorldFixture world, ITestOutputHelper output)
{
    [Fact]
    public async Task Mail_accepted_by_the_smtp_role_is_delivered_verified_by_the_delivery_role_of_the_same_process()
    {
        await using var queue = await DeliveryQueue.CreateAsync("e2e_dlv_full");
        var port = Processes.FreeTcpPort(IPAddress.Loopback);
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = queue.ConnectionString,
            ["Relay__Hostname"] = "relay.e2e.test",
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-e2e-full-").FullName,
            ["Relay__Dns__Servers__0"] = world.World.Resolver.ToString(),
            ["Relay__Smtp__Listen__0"] = $"127.0.0.1:{port}",
            ["Relay__TrustedNetworks__0"] = "127.0.0.0/8",
        };
        await using var relay = RelayProcess.Start(env, "serve", "--roles", "smtp,delivery");
        await relay.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));
        await relay.WaitForOutputAsync("role smtp started", TimeSpan.FromSeconds(30));

        var recipient = $"full-{Guid.NewGuid():N}"[..16] + $"@ee.{DeliveryWorldFixture.Signed}";
        var timeout = TimeSpan.FromSeconds(10);
        string reply;
        await using (var client = await MiniSmtpClient.ConnectAsync("127.0.0.1", port, timeout))
        {
            await client.CommandAsync("EHLO submitter.e2e.test", timeout);
            reply = await client.SendMessageAsync($"alice@{DeliveryWorldFixture.SenderDomain}", [recipient],
                $"Subject: whole path\r\nMessage-ID: <{Guid.NewGuid():N}@sender.e2e.test>\r\n\r\nthrough smtp, queue and delivery\r\n", timeout);
        }
        var queued = QueuedAs().Match(reply);
        Assert.True(reply.StartsWith("250", StringComparison.Ordinal) && queued.Success, reply);

        await queue.WaitForStatesAsync(queued.Groups[1].Value, TimeSpan.FromSeconds(30), "delivered", "deferred", "bounced");
        var shown = await queue.ShowAsync(queued.Groups[1].Value);
        output.WriteLine(shown.Describe());
        Assert.True(Assert.Single(shown.Recipients()).Text("state") == "delivered", shown.Describe() + "\n" + relay.Output);
        var attempt = Assert.Single(shown.Attempts());
        Assert.Equal(("verified", "dane-ee"), (attempt.Text("transport"), attempt.Text("how")));
        await world.WaitForArrivalAsync(world.Postfix, recipient);
    }

    [GeneratedRegex(@"queued as <?([0-9A-Z]{16})>?")]
    private static partial Regex QueuedAs();
}
