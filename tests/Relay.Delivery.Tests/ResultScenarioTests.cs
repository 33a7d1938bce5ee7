using System.Net;
using System.Text;
using Relay.Db;
using Relay.Dns;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>Per-recipient results, retries, bounces and routing against scripted peers.</summary>
public class ResultScenarioTests
{
    private const string Sender = "alice@origin.test";

    [Fact]
    public async Task Rcpt_550_for_one_of_two_delivers_one_and_sends_a_dsn_for_the_other()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            OfferStartTls = false,
            RcptReply = a => a.StartsWith("nobody", StringComparison.Ordinal) ? "550 5.1.1 no such user here" : "250 2.1.5 ok",
        });
        var id = await h.EnqueueAsync(Sender, ["bob@split.test", "nobody@split.test"], body: "Subject: split\r\nMessage-ID: <m1@origin.test>\r\n\r\nhi\r\n");

        await h.Role(Harness.Options(("split.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        var received = Assert.Single(peer.Messages);
        Assert.Equal(["bob@split.test"], received.Recipients);
        var detail = await h.ShowAsync(id);
        Assert.Equal("delivered", detail.Recipients.Single(r => r.Address == "bob@split.test").State);
        Assert.Equal("bounced", detail.Recipients.Single(r => r.Address == "nobody@split.test").State);

        var dsn = Assert.Single(await h.BouncesAsync());
        Assert.Equal("", dsn.Sender);
        var text = Encoding.ASCII.GetString(dsn.Body);
        Assert.Contains("Content-Type: multipart/report;", text);
        Assert.Contains("report-type=delivery-status", text);
        Assert.Contains("Content-Type: message/delivery-status", text);
        Assert.Contains("Reporting-MTA: dns; relay.test", text);
        Assert.Contains("Final-Recipient: rfc822; nobody@split.test", text);
        Assert.Contains("Action: failed", text);
        Assert.Contains("Status: 5.1.1", text);
        Assert.Contains("Diagnostic-Code: smtp; 550 5.1.1 no such user here", text);
        Assert.Contains("Message-ID: <m1@origin.test>", text);
        Assert.DoesNotContain("Final-Recipient: rfc822; bob@split.test", text);
        var dsnDetail = await h.ShowAsync(dsn.QueueId);
        Assert.Equal(Sender, Assert.Single(dsnDetail.Recipients).Address);
    }

    [Fact]
    public async Task Rcpt_451_is_retried_later_without_sending_the_delivered_recipient_again()
    {
        await using var h = await Harness.CreateAsync();
        var tries = 0;
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            OfferStartTls = false,
            RcptReply = a => a.StartsWith("later", StringComparison.Ordinal) && Interlocked.Increment(ref tries) == 1
                ? "451 4.3.0 try again later" : "250 2.1.5 ok",
        });
        var id = await h.EnqueueAsync(Sender, ["now@retry.test", "later@retry.test"]);
        var role = h.Role(Harness.Options(("retry.test", peer.Route)));

        await role.RunOnceAsync(CancellationToken.None);
        var first = await h.ShowAsync(id);
        Assert.Equal("delivered", first.Recipients.Single(r => r.Address == "now@retry.test").State);
        var later = first.Recipients.Single(r => r.Address == "later@retry.test");
        Assert.Equal("deferred", later.State);
        Assert.True(later.NextAttempt > DateTimeOffset.UtcNow.AddMinutes(4), "first retry after about five minutes");
        Assert.Equal(0, await role.RunOnceAsync(CancellationToken.None)); // not due yet

        Assert.Equal(1, await h.Database.Admin.RetryAsync(id, CancellationToken.None));
        Assert.Equal(1, await role.RunOnceAsync(CancellationToken.None));

        Assert.Equal(2, peer.Messages.Count);
        Assert.Equal(["now@retry.test"], peer.Messages[0].Recipients);
        Assert.Equal(["later@retry.test"], peer.Messages[1].Recipients);
        Assert.All((await h.ShowAsync(id)).Recipients, r => Assert.Equal("delivered", r.State));
        Assert.Empty(await h.BouncesAsync());
    }

    [Fact]
    public async Task Dropped_connection_at_end_of_data_defers_every_recipient_of_the_transaction()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false, DropAtDot = true });
        var id = await h.EnqueueAsync(Sender, ["a@drop.test", "b@drop.test"]);

        await h.Role(Harness.Options(("drop.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        var detail = await h.ShowAsync(id);
        Assert.All(detail.Recipients, r => Assert.Equal("deferred", r.State));
        Assert.Equal("dot", Assert.Single(detail.Attempts).Stage);
    }

    [Fact]
    public async Task Reply_451_at_end_of_data_defers_all_and_550_bounces_all()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            OfferStartTls = false, DataReply = n => n == 1 ? "451 4.3.0 local problem" : "554 5.6.0 content rejected",
        });
        var first = await h.EnqueueAsync(Sender, ["a@data.test", "b@data.test"]);
        var role = h.Role(Harness.Options(("data.test", peer.Route)));
        await role.RunOnceAsync(CancellationToken.None);
        Assert.All((await h.ShowAsync(first)).Recipients, r => Assert.Equal("deferred", r.State));

        await h.Database.Admin.RetryAsync(first, CancellationToken.None);
        await role.RunOnceAsync(CancellationToken.None);
        Assert.All((await h.ShowAsync(first)).Recipients, r => Assert.Equal("bounced", r.State));
        Assert.Single(await h.BouncesAsync());
    }

    [Fact]
    public async Task Smuggling_sequences_in_a_body_reach_the_wire_normalised_in_one_message()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var body = new MemoryStream();
        body.Write("Subject: smuggle\r\n\r\n"u8);
        foreach (var sequence in DataEncoderTests.SmugglingSequences)
            body.Write(Encoding.ASCII.GetBytes($"x{sequence}MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@smuggle.test>\r\nDATA\r\n"));
        var id = await h.EnqueueAsync(Sender, ["bob@smuggle.test"], rawBody: body.ToArray());

        await h.Role(Harness.Options(("smuggle.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        var message = Assert.Single(peer.Messages);
        DataEncoderTests.AssertCleanWire(message.WireData);
        Assert.DoesNotContain(peer.Transcript, l => l.Contains("C: MAIL FROM:<evil", StringComparison.Ordinal));
        Assert.Equal("delivered", Assert.Single((await h.ShowAsync(id)).Recipients).State);
    }

    [Fact]
    public async Task Greeting_554_on_the_first_mx_moves_on_to_the_second()
    {
        await using var h = await Harness.CreateAsync();
        var (mx1, mx2) = StartPair(new PeerScript { Greeting = "554 5.7.1 go away" }, new PeerScript { OfferStartTls = false });
        await using var _1 = mx1;
        await using var _2 = mx2;
        var dns = new FakeDns().Mx("twomx.test", (10, "mx1.twomx.test"), (20, "mx2.twomx.test"))
            .A("mx1.twomx.test", mx1.EndPoint.Address.ToString()).A("mx2.twomx.test", mx2.EndPoint.Address.ToString());
        var id = await h.EnqueueAsync(Sender, ["bob@twomx.test"]);

        await h.Role(Harness.Options() with { Port = mx1.EndPoint.Port }, dns).RunOnceAsync(CancellationToken.None);

        Assert.Empty(mx1.Messages);
        Assert.Single(mx2.Messages);
        var detail = await h.ShowAsync(id);
        Assert.Equal("delivered", Assert.Single(detail.Recipients).State);
        Assert.Equal(["mx1.twomx.test", "mx2.twomx.test"], detail.Attempts.OrderBy(a => a.StartedAt).Select(a => a.Peer ?? "").ToArray());
        Assert.StartsWith("554", detail.Attempts.Single(a => a.Peer == "mx1.twomx.test").Reply);
        Assert.Equal(1, await h.ScalarAsync("select count(*) from delivery_attempts where peer_name = 'mx1.twomx.test' and stage = 'greeting'"));
    }

    [Fact]
    public async Task Null_mx_bounces_with_5_1_10_and_nxdomain_bounces_and_servfail_defers()
    {
        await using var h = await Harness.CreateAsync();
        var dns = new FakeDns()
            .Mx("nullmx.test", (0, "."))
            .Answer("gone.test", DnsType.MX, (n, t) => new DnsResult.NxDomain(n, t, isSecure: false, negativeTtl: 60))
            .Answer("broken.test", DnsType.MX, (n, t) => new DnsResult.Error(n, t, DnsErrorKind.ServerFailure, "SERVFAIL", DnsRcode.ServFail));
        var nullMx = await h.EnqueueAsync(Sender, ["a@nullmx.test"]);
        var gone = await h.EnqueueAsync(Sender, ["a@gone.test"]);
        var broken = await h.EnqueueAsync(Sender, ["a@broken.test"]);

        await h.Role(Harness.Options(), dns).RunOnceAsync(CancellationToken.None);

        var nullDetail = await h.ShowAsync(nullMx);
        Assert.Equal("bounced", Assert.Single(nullDetail.Recipients).State);
        Assert.Contains("5.1.10", Assert.Single(nullDetail.Recipients).LastResult);
        Assert.Equal("dns", Assert.Single(nullDetail.Attempts).Stage);
        Assert.Equal("bounced", Assert.Single((await h.ShowAsync(gone)).Recipients).State);
        Assert.Equal("deferred", Assert.Single((await h.ShowAsync(broken)).Recipients).State);
        var dsns = await h.BouncesAsync();
        Assert.Equal(2, dsns.Count);
        Assert.Contains(dsns, d => Encoding.ASCII.GetString(d.Body).Contains("Status: 5.1.10"));
    }

    [Fact]
    public async Task Null_sender_message_is_never_bounced_and_notify_never_suppresses_the_dsn()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false, RcptReply = _ => "550 5.1.1 unknown" });
        var fromNull = await h.EnqueueAsync("", ["a@nobounce.test"]);
        var never = await h.EnqueueAsync(Sender, ["b@nobounce.test"], notify: "NEVER");

        await h.Role(Harness.Options(("nobounce.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Equal("bounced", Assert.Single((await h.ShowAsync(fromNull)).Recipients).State);
        Assert.Equal("bounced", Assert.Single((await h.ShowAsync(never)).Recipients).State);
        Assert.DoesNotContain(await h.BouncesAsync(), d => d.QueueId != fromNull);
    }

    [Fact]
    public async Task Deferral_after_the_queue_lifetime_becomes_a_bounce_with_4_4_7()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false, RcptReply = _ => "451 4.3.0 later" });
        var id = await h.EnqueueAsync(Sender, ["a@expire.test"]);

        await h.Role(Harness.Options(("expire.test", peer.Route)) with { Lifetime = TimeSpan.Zero }).RunOnceAsync(CancellationToken.None);

        var recipient = Assert.Single((await h.ShowAsync(id)).Recipients);
        Assert.Equal("bounced", recipient.State);
        Assert.Contains("Status: 4.4.7", Encoding.ASCII.GetString(Assert.Single(await h.BouncesAsync()).Body));
    }

    [Fact]
    public async Task Eight_bit_body_to_a_peer_without_8bitmime_bounces_5_6_3_and_is_never_sent()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false, EightBitMime = false });
        var id = await h.EnqueueAsync(Sender, ["bob@seven.test"], body: "Subject: x\r\n\r\ngrüße\r\n");

        await h.Role(Harness.Options(("seven.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Empty(peer.Messages);
        Assert.DoesNotContain(peer.Transcript, l => l.Contains("C: MAIL", StringComparison.Ordinal));
        var recipient = Assert.Single((await h.ShowAsync(id)).Recipients);
        Assert.Equal("bounced", recipient.State);
        Assert.Contains("5.6.3", recipient.LastResult);
    }

    [Fact]
    public async Task Message_larger_than_the_peers_size_limit_bounces_5_3_4_before_data()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false, Size = 100 });
        var id = await h.EnqueueAsync(Sender, ["bob@small.test"], body: "Subject: big\r\n\r\n" + new string('x', 500) + "\r\n");

        await h.Role(Harness.Options(("small.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Empty(peer.Messages);
        Assert.Contains("5.3.4", Assert.Single((await h.ShowAsync(id)).Recipients).LastResult);
    }

    [Fact]
    public async Task Peer_that_rejects_ehlo_gets_helo_and_one_command_at_a_time()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { AcceptEhlo = false, Pipelining = false });
        var id = await h.EnqueueAsync(Sender, ["bob@old.test", "carol@old.test"]);

        await h.Role(Harness.Options(("old.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Single(peer.Messages);
        Assert.Contains(peer.Transcript, l => l.Contains("C: HELO relay.test", StringComparison.Ordinal));
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal(("cleartext", "starttls-not-offered"), (attempt.Transport, attempt.Reason));
    }

    [Fact]
    public async Task Several_messages_to_one_peer_share_one_session_with_rset_between_failures()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            OfferStartTls = false, RcptReply = a => a.StartsWith("bad", StringComparison.Ordinal) ? "550 5.1.1 unknown" : "250 ok",
        });
        var ids = new List<string>();
        foreach (var r in new[] { "a@reuse.test", "bad@reuse.test", "c@reuse.test" })
            ids.Add(await h.EnqueueAsync(Sender, [r]));

        await h.Role(Harness.Options(("reuse.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, peer.Connections);
        Assert.Equal(2, peer.Messages.Count);
        Assert.Contains(peer.Transcript, l => l.Contains("C: RSET", StringComparison.Ordinal));
        Assert.Equal("bounced", Assert.Single((await h.ShowAsync(ids[1])).Recipients).State);
    }

    [Fact]
    public async Task Silent_peer_is_given_up_at_the_greeting_deadline_and_the_mail_deferred()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { SilentGreeting = true });
        var id = await h.EnqueueAsync(Sender, ["bob@tarpit.test"]);
        var options = Harness.Options(("tarpit.test", peer.Route)) with
        {
            Timeouts = Harness.Options().Timeouts with { Greeting = TimeSpan.FromMilliseconds(500) },
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await h.Role(options).RunOnceAsync(CancellationToken.None);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), clock.Elapsed.ToString());
        var detail = await h.ShowAsync(id);
        Assert.Equal("deferred", Assert.Single(detail.Recipients).State);
        Assert.Equal("greeting", Assert.Single(detail.Attempts, a => a.Peer is not null).Stage);
    }

    [Fact]
    public async Task Notify_success_to_a_peer_without_dsn_gets_a_relayed_notice_and_plain_delivery_gets_none()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        await h.EnqueueAsync(Sender, ["quiet@notify.test"]);
        var asked = await h.EnqueueAsync(Sender, ["asks@notify.test"], notify: "SUCCESS,FAILURE");

        await h.Role(Harness.Options(("notify.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        var dsn = Assert.Single(await h.BouncesAsync());
        var text = Encoding.ASCII.GetString(dsn.Body);
        Assert.Contains("Final-Recipient: rfc822; asks@notify.test", text);
        Assert.Contains("Action: relayed", text);
        Assert.DoesNotContain("quiet@notify.test", text);
        Assert.Equal("delivered", Assert.Single((await h.ShowAsync(asked)).Recipients).State);
    }

    [Fact]
    public async Task Delivery_over_ipv6_loopback_works_and_records_the_address()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false }, IPAddress.IPv6Loopback);
        var id = await h.EnqueueAsync(Sender, ["bob@six.test"]);

        await h.Role(Harness.Options(("six.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Single(peer.Messages);
        Assert.Equal("::1", Assert.Single((await h.ShowAsync(id)).Attempts).Address);
    }

    [Fact]
    public async Task A_one_megabyte_message_with_dot_lines_arrives_byte_for_byte()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript());
        var body = new StringBuilder("Subject: big\r\n\r\n");
        for (var i = 0; body.Length < 1_000_000; i++)
            body.Append(i % 7 == 0 ? "." : "").Append("line ").Append(i).Append(' ', i % 50).Append("\r\n");
        var id = await h.EnqueueAsync(Sender, ["bob@big.test"], body: body.ToString());

        await h.Role(Harness.Options(("big.test", peer.Route))).RunOnceAsync(CancellationToken.None);

        Assert.Equal("delivered", Assert.Single((await h.ShowAsync(id)).Recipients).State);
        Assert.Equal(body.ToString(), Assert.Single(peer.Messages).Text);
    }

    [Fact]
    public async Task At_most_five_addresses_are_tried_per_attempt_then_the_mail_is_deferred()
    {
        await using var h = await Harness.CreateAsync();
        var net = Random.Shared.Next(1, 250);
        var dns = new FakeDns().Mx("many.test", Enumerable.Range(1, 7).Select(i => ((ushort)(i * 10), $"mx{i}.many.test")).ToArray());
        for (var i = 1; i <= 7; i++) dns.A($"mx{i}.many.test", $"127.78.{net}.{i}"); // nothing listens there: refused
        var id = await h.EnqueueAsync(Sender, ["bob@many.test"]);

        await h.Role(Harness.Options() with { Port = 2 }, dns).RunOnceAsync(CancellationToken.None);

        var detail = await h.ShowAsync(id);
        Assert.Equal("deferred", Assert.Single(detail.Recipients).State);
        var tried = detail.Attempts.Where(a => a.Peer is not null).Select(a => a.Peer!).ToList();
        Assert.Equal(["mx1.many.test", "mx2.many.test", "mx3.many.test", "mx4.many.test", "mx5.many.test"], tried.Order().ToArray());
        Assert.All(detail.Attempts.Where(a => a.Peer is not null), a => Assert.Equal("connect", a.Stage));
    }

    [Fact]
    public async Task Delay_warning_dsn_is_sent_once_the_message_has_waited_long_enough()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false, RcptReply = _ => "451 4.3.0 later" });
        var id = await h.EnqueueAsync(Sender, ["slowpoke@delay.test"]);

        await h.Role(Harness.Options(("delay.test", peer.Route)) with { DelayWarning = TimeSpan.Zero }).RunOnceAsync(CancellationToken.None);

        Assert.Equal("deferred", Assert.Single((await h.ShowAsync(id)).Recipients).State);
        var text = Encoding.ASCII.GetString(Assert.Single(await h.BouncesAsync()).Body);
        Assert.Contains("Action: delayed", text);
        Assert.Contains("Status: 4.3.0", text);
        Assert.Contains("Subject: Delayed Mail", text);
    }

    /// <summary>Two peers on two loopback addresses sharing one port (MX peers all use Relay:Delivery:Port).</summary>
    private static (ScriptedSmtpPeer, ScriptedSmtpPeer) StartPair(PeerScript first, PeerScript second)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var net = Random.Shared.Next(1, 250);
            var a = ScriptedSmtpPeer.Start(first, IPAddress.Parse($"127.77.{net}.1"));
            try
            {
                return (a, ScriptedSmtpPeer.Start(second, IPAddress.Parse($"127.77.{net}.2"), a.EndPoint.Port));
            }
            catch (System.Net.Sockets.SocketException)
            {
                a.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        throw new InvalidOperationException("no shared free port on two loopback addresses");
    }
}
