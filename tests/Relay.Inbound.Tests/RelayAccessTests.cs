using System.Net;
using Relay.TestKit.Postgres;

namespace Relay.Inbound.Tests;

public class RelayAccessTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    public static TheoryData<string> OpenRelayForms => new()
    {
        "victim@elsewhere.example",
        "victim%elsewhere.example@hosted.example",
        "elsewhere.example!victim@hosted.example",
        "\"victim@elsewhere.example\"@hosted.example",
        "\"victim%elsewhere.example\"@hosted.example",
        "@hosted.example:victim@elsewhere.example",
        "@hosted.example,@mx.test.example:victim@elsewhere.example",
        "victim@[192.0.2.1]",
        "victim@[127.0.0.1]",
        "victim@[IPv6:::1]",
        "victim@localhost",
        "victim@sub.hosted.example",
        "victim@hosted.example.elsewhere.example",
        "victim@HOSTED.example.evil",
    };

    [Theory]
    [MemberData(nameof(OpenRelayForms))]
    public async Task Every_open_relay_form_from_an_untrusted_address_is_554_5_7_1(string recipient)
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.TrustedNetworks = ["10.0.0.0/8", "127.0.0.2/32"]);
        await using var client = await listener.ConnectAsync();
        await client.CommandAsync("EHLO c");
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<a@b.example>")).Code);
        Assert.Equal("554 5.7.1 Relay access denied", (await client.CommandAsync($"RCPT TO:<{recipient}>")).ToString());
        Assert.StartsWith("554 5.5.1", (await client.CommandAsync("DATA")).ToString());
    }

    [Fact]
    public async Task Hosted_domains_are_open_to_anyone_in_any_case_and_postmaster_is_always_accepted()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        await client.CommandAsync("EHLO c");
        await client.CommandAsync("MAIL FROM:<>");
        Assert.Equal(250, (await client.CommandAsync("RCPT TO:<User@Hosted.EXAMPLE>")).Code);
        Assert.Equal(250, (await client.CommandAsync("RCPT TO:<postmaster>")).Code);
    }

    [Fact]
    public async Task A_trusted_network_may_relay_anywhere()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.TrustedNetworks = ["127.0.0.2/32"]);
        var sender = QueueRows.UniqueSender("trusted");
        await using (var trusted = await listener.ConnectAsync(from: IPAddress.Parse("127.0.0.2")))
        {
            await trusted.CommandAsync("EHLO c");
            Assert.Equal(250, (await ProtocolTests.SendMessageAsync(trusted, sender, "someone@elsewhere.example", "Subject: out\r\n\r\nx")).Code);
        }
        await using (var untrusted = await listener.ConnectAsync(from: IPAddress.Parse("127.0.0.3")))
        {
            await untrusted.CommandAsync("EHLO c");
            await untrusted.CommandAsync("MAIL FROM:<a@b.example>");
            Assert.StartsWith("554 5.7.1", (await untrusted.CommandAsync("RCPT TO:<someone@elsewhere.example>")).ToString());
        }
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Equal("someone@elsewhere.example", stored.Recipients.Single().Address);
    }

    [Fact]
    public async Task A_recipient_list_refuses_unknown_users_with_550_5_1_1()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o =>
            o.Recipients = new Dictionary<string, IList<string>>(StringComparer.OrdinalIgnoreCase) { ["hosted.example"] = ["known@hosted.example"] });
        await using var client = await listener.ConnectAsync();
        await client.CommandAsync("EHLO c");
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        Assert.Equal(250, (await client.CommandAsync("RCPT TO:<Known@hosted.example>")).Code);
        Assert.StartsWith("550 5.1.1", (await client.CommandAsync("RCPT TO:<unknown@hosted.example>")).ToString());
    }
}
