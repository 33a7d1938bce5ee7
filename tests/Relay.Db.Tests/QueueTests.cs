using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Relay.Db;
using Relay.TestKit.Postgres;

namespace Relay.Db.Tests;

public class QueueTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private RelayDatabase Db => fixture.Database;

    [Fact]
    public async Task Enqueue_stores_message_and_recipients_and_returns_a_queue_id()
    {
        var id = await Db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(3, "Enqueue.Example"), CancellationToken.None);

        Assert.True(QueueId.IsWellFormed(id), id);
        var detail = await Db.QueueReader.GetMessageAsync(id, CancellationToken.None);
        Assert.NotNull(detail);
        Assert.Equal("alice@example.org", detail.Sender);
        Assert.Equal(3, detail.Recipients.Count);
        Assert.All(detail.Recipients, r => Assert.Equal("queued", r.State));
        Assert.Equal("cleartext", detail.Inbound.Transport);
    }

    [Fact]
    public async Task Enqueue_that_fails_midway_leaves_nothing_behind()
    {
        var before = await CountAsync("select count(*) from messages");
        // The second recipient violates the recipients table (NUL is not allowed in text): the insert of
        // the message has already happened inside the transaction and must roll back with it.
        var recipients = new[] { new NewRecipient("ok@atomic.example"), new NewRecipient("bad\0@atomic.example") };

        await Assert.ThrowsAnyAsync<Exception>(() => Db.Queue.EnqueueAsync(TestMessages.Simple("atomic@example.org"), recipients, CancellationToken.None));

        Assert.Equal(before, await CountAsync("select count(*) from messages"));
        Assert.Equal(0, await CountAsync("select count(*) from recipients where next_hop = 'atomic.example'"));
    }

    [Fact]
    public async Task Eight_concurrent_claimers_over_2000_recipients_claim_each_exactly_once()
    {
        const string domain = "claimrace.example";
        for (var i = 0; i < 20; i++)
            await Db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(100, domain), CancellationToken.None);

        var claims = new ConcurrentBag<long>();
        var deadline = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var round = 0; round < 1000 && deadline.Elapsed < TimeSpan.FromSeconds(60); round++)
            {
                var batches = await Db.Queue.ClaimAsync(37, TimeSpan.FromMinutes(5), $"worker-{w}", CancellationToken.None);
                var mine = batches.Where(b => b.NextHop == domain).SelectMany(b => b.Recipients).ToList();
                if (batches.Count == 0) return;
                foreach (var r in mine) claims.Add(r.RecipientId);
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(2000, claims.Count);
        Assert.Equal(2000, claims.Distinct().Count());
        Assert.Equal(2000, await CountAsync($"select count(*) from recipients where next_hop = '{domain}' and lease_owner is not null"));
    }

    [Fact]
    public async Task An_expired_lease_is_claimable_again()
    {
        await Db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(1, "lease.example"), CancellationToken.None);
        var first = await ClaimDomainAsync("lease.example", TimeSpan.FromMilliseconds(300), "crashed-worker");
        Assert.Single(first);

        var whileLeased = await ClaimDomainAsync("lease.example", TimeSpan.FromMinutes(5), "other");
        Assert.Empty(whileLeased);

        await Task.Delay(TimeSpan.FromMilliseconds(600));
        var afterExpiry = await ClaimDomainAsync("lease.example", TimeSpan.FromMinutes(5), "other");
        Assert.Equal(first.Select(r => r.RecipientId), afterExpiry.Select(r => r.RecipientId));
    }

    [Fact]
    public async Task A_renewed_lease_outlives_its_first_expiry_and_a_lost_lease_cannot_be_renewed()
    {
        await Db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(2, "renew.example"), CancellationToken.None);
        var mine = await ClaimDomainAsync("renew.example", TimeSpan.FromMilliseconds(500), "long-session");
        var ids = mine.Select(r => r.RecipientId).ToList();

        Assert.Equal(ids.Order(), (await Db.Queue.RenewLeasesAsync(ids, TimeSpan.FromMinutes(5), "long-session", CancellationToken.None)).Order());
        await Task.Delay(TimeSpan.FromMilliseconds(800));
        Assert.Empty(await ClaimDomainAsync("renew.example", TimeSpan.FromMinutes(5), "other"));
        Assert.Empty(await Db.Queue.RenewLeasesAsync(ids, TimeSpan.FromMinutes(5), "someone-else", CancellationToken.None));
    }

    [Fact]
    public async Task Recording_an_attempt_updates_recipients_attempt_and_peer_in_one_go()
    {
        var id = await Db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(2, "record.example"), CancellationToken.None);
        var claimed = await ClaimDomainAsync("record.example", TimeSpan.FromMinutes(5), "w");
        var retryAt = DateTimeOffset.UtcNow.AddMinutes(5);
        var attempt = new AttemptRecord("record.example", "mx.record.example", "127.0.0.9", 25, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(12),
            "quit", "250 2.0.0 ok", "dane", "encrypted", "none", "no-tlsa", TlsVersion: "Tls13", TlsCipher: "TLS_AES_256_GCM_SHA384",
            PeerSpkiSha256: "ab", TlsaStatus: "insecure", MxDnssec: "insecure", AddressDnssec: "insecure");

        await Db.Attempts.RecordAsync(attempt, [
            new RecipientOutcome(claimed[0].RecipientId, RecipientResult.Delivered, "250 2.0.0 ok"),
            new RecipientOutcome(claimed[1].RecipientId, RecipientResult.Deferred, "451 4.3.0 later", retryAt),
        ], CancellationToken.None);

        var detail = (await Db.QueueReader.GetMessageAsync(id, CancellationToken.None))!;
        Assert.Equal(["delivered", "deferred"], detail.Recipients.Select(r => r.State));
        Assert.All(detail.Recipients, r => Assert.Equal(1, r.Attempts));
        Assert.Equal("encrypted", Assert.Single(detail.Attempts).Transport);
        Assert.Equal(2, detail.Attempts[0].Recipients.Count);
        var peer = Assert.Single(await Db.PeerReader.ListPeersAsync(new PeerFilter(), new Page(0, 500), CancellationToken.None), p => p.Name == "mx.record.example");
        Assert.Equal("encrypted", peer.LastTransport);
        Assert.Equal(1, peer.AttemptsEncrypted);
        // the deferred recipient is not due yet, and the delivered one is never claimed again
        Assert.Empty(await ClaimDomainAsync("record.example", TimeSpan.FromMinutes(5), "w2"));
    }

    [Fact]
    public async Task A_peer_that_falls_back_to_cleartext_is_marked_downgraded()
    {
        var baseAttempt = new AttemptRecord("down.example", "mx.down.example", "127.0.0.10", 25, DateTimeOffset.UtcNow, TimeSpan.Zero,
            "quit", "250 ok", "dane", "verified", "dane-ee", null, TlsVersion: "Tls13", PeerSpkiSha256: "aa");
        await Db.Attempts.RecordAsync(baseAttempt, [], CancellationToken.None);
        await Db.Attempts.RecordAsync(baseAttempt with { Transport = "cleartext", How = "none", Reason = "starttls-not-offered", TlsVersion = null, PeerSpkiSha256 = null },
            [], CancellationToken.None);

        var peer = (await Db.PeerReader.ListPeersAsync(new PeerFilter(), new Page(0, 500), CancellationToken.None)).Single(p => p.Name == "mx.down.example");
        Assert.Equal("cleartext", peer.LastTransport);
        Assert.Equal("verified", peer.BestTransport);
        Assert.True(peer.Downgraded);
        Assert.Equal("aa", peer.LastSpki);
    }

    [Fact]
    public async Task An_attempt_that_sent_nothing_stores_no_transport_and_leaves_the_peer_memory_alone()
    {
        var refused = new AttemptRecord("nothing.example", "mx.nothing.example", "127.0.0.12", 25, DateTimeOffset.UtcNow, TimeSpan.Zero,
            "tls", "certificate rejected: no-match", "dane", null, "none", "certificate rejected: no-match", ResultType: "tlsa-invalid");
        await Db.Attempts.RecordAsync(refused, [], CancellationToken.None);
        var first = (await Db.PeerReader.ListPeersAsync(new PeerFilter(), new Page(0, 500), CancellationToken.None)).Single(p => p.Name == "mx.nothing.example");
        Assert.Equal((null, null, 0), (first.LastTransport, first.BestTransport, first.AttemptsCleartext));
        Assert.False(first.Downgraded);

        var verified = refused with { Stage = "dot", Reply = "250 ok", Transport = "verified", How = "dane-ee", Reason = null, TlsVersion = "TLSv1.3", ResultType = null };
        await Db.Attempts.RecordAsync(verified, [], CancellationToken.None);
        await Db.Attempts.RecordAsync(refused, [], CancellationToken.None);
        var peer = (await Db.PeerReader.ListPeersAsync(new PeerFilter(), new Page(0, 500), CancellationToken.None)).Single(p => p.Name == "mx.nothing.example");
        // A refusal says nothing about the transport the peer gives mail: it is neither a downgrade nor a cleartext count.
        Assert.Equal(("verified", "verified", 1, 0), (peer.LastTransport, peer.BestTransport, peer.AttemptsVerified, peer.AttemptsCleartext));
        Assert.False(peer.Downgraded);
        Assert.Equal(2, await CountAsync("select count(*) from delivery_attempts where peer_name = 'mx.nothing.example' and transport is null and result_type = 'tlsa-invalid'"));
        // Nothing sent without a reason is refused by the schema itself.
        await Assert.ThrowsAsync<PostgresException>(() => Db.Attempts.RecordAsync(refused with { Reason = null }, [], CancellationToken.None));
    }

    [Fact]
    public async Task The_schema_orders_the_transport_words_as_Relay_Policy_does()
    {
        foreach (var transport in Enum.GetValues<Relay.Policy.TransportSecurity>())
            Assert.Equal((int)transport + 1, await CountAsync($"select transport_rank('{Relay.Policy.TransportSecurityWire.ToWire(transport)}')::bigint"));
        Assert.Equal(0, await CountAsync("select count(*) from (select transport_rank(null) as r) x where r is not null"));
    }

    [Fact]
    public async Task Notify_wakes_a_waiting_listener_within_100_ms_of_an_enqueue()
    {
        await using var signal = Db.ListenForQueue();
        await signal.Listening.WaitAsync(TimeSpan.FromSeconds(10));
        while (await signal.WaitAsync(TimeSpan.Zero, CancellationToken.None)) { } // drain the start-up wake-up

        var waiter = signal.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.False(waiter.IsCompleted);
        await Db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(1, "notify.example"), CancellationToken.None);
        var woke = Stopwatch.StartNew();

        Assert.True(await waiter);
        Assert.True(woke.Elapsed < TimeSpan.FromMilliseconds(100), $"woke after {woke.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Held_recipients_are_not_claimed_until_released()
    {
        var id = await Db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(2, "hold.example"), CancellationToken.None);

        Assert.Equal(2, await Db.Admin.HoldAsync(id, CancellationToken.None));
        Assert.Empty(await ClaimDomainAsync("hold.example", TimeSpan.FromMinutes(1), "w"));
        Assert.Equal(2, await Db.Admin.ReleaseAsync(id, CancellationToken.None));
        Assert.Equal(2, (await ClaimDomainAsync("hold.example", TimeSpan.FromMinutes(1), "w")).Count);
        Assert.Equal(0, await Db.Admin.HoldAsync("0000000000000000", CancellationToken.None));
    }

    [Fact]
    public async Task Forgetting_a_peer_removes_its_history_but_keeps_its_attempts()
    {
        var attempt = new AttemptRecord("forget.example", "mx.forget.example", "127.0.0.11", 25, DateTimeOffset.UtcNow, TimeSpan.Zero,
            "quit", "250 ok", "dane", "verified", "dane-ee", null, TlsVersion: "Tls13");
        await Db.Attempts.RecordAsync(attempt, [], CancellationToken.None);

        Assert.Equal(1, await Db.Peers.ForgetAsync("MX.forget.example.", CancellationToken.None));
        Assert.Equal(0, await Db.Peers.ForgetAsync("mx.forget.example", CancellationToken.None));
        Assert.DoesNotContain(await Db.PeerReader.ListPeersAsync(new PeerFilter(), new Page(0, 500), CancellationToken.None), p => p.Name == "mx.forget.example");
        Assert.Equal(1, await CountAsync("select count(*) from delivery_attempts where peer_name = 'mx.forget.example'"));
    }

    [Fact]
    public async Task A_requested_bounce_makes_held_recipients_due_and_is_flagged_on_the_claim()
    {
        var id = await Db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(2, "bounce-request.example"), CancellationToken.None);
        await Db.Admin.HoldAsync(id, CancellationToken.None);

        Assert.Equal(2, await Db.Admin.RequestBounceAsync(id, CancellationToken.None));

        var claimed = await ClaimDomainAsync("bounce-request.example", TimeSpan.FromMinutes(1), "w");
        Assert.Equal(2, claimed.Count);
        Assert.All(claimed, r => Assert.True(r.BounceRequested));
    }

    private async Task<IReadOnlyList<ClaimedRecipient>> ClaimDomainAsync(string domain, TimeSpan lease, string owner)
    {
        // Other tests share this database: claim everything due and keep only our domain's rows.
        var batches = await Db.Queue.ClaimAsync(10_000, lease, owner, CancellationToken.None);
        return batches.Where(b => b.NextHop == domain).SelectMany(b => b.Recipients).ToList();
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
