using System.Net;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Relay.Db;
using Relay.TestKit.Postgres;

namespace Relay.Inbound.Tests;

/// <summary>
/// MailKit, a widely used independent client, against the real listener: every extension Relay announces
/// (STARTTLS, PIPELINING, 8BITMIME, SMTPUTF8, DSN, CHUNKING via BDAT) and AUTH on submission. Its protocol log
/// shows what MailKit really sent; the queue rows show what Relay really stored.
/// </summary>
public class MailKitInteropTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private const string Password = "mailkit pass 1";

    /// <summary>MailKit's knobs that are protected: BDAT instead of DATA, and DSN parameters per message.</summary>
    private sealed class Client(IProtocolLogger logger) : SmtpClient(logger)
    {
        public bool Binary { get; init; }
        public DeliveryStatusNotification? Notify { get; init; }
        public string? EnvelopeId { get; init; }
        protected override bool PreferSendAsBinaryData => Binary;
        protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox) => Notify;
        protected override string? GetEnvelopeId(MimeMessage message) => EnvelopeId;
    }

    private sealed class Session : IAsyncDisposable
    {
        private readonly MemoryStream _log = new();
        public Client Client { get; }
        public string Log => Encoding.UTF8.GetString(_log.ToArray());
        public Session(bool binary = false, DeliveryStatusNotification? notify = null, string? envid = null)
        {
            Client = new Client(new ProtocolLogger(_log, leaveOpen: true)) { Binary = binary, Notify = notify, EnvelopeId = envid };
            // The listener's certificate is self-signed (generated): opportunistic TLS, nothing to verify here.
            Client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            Client.CheckCertificateRevocation = false;
            Client.Timeout = 20_000;
        }
        public async ValueTask DisposeAsync()
        {
            if (Client.IsConnected) await Client.DisconnectAsync(true);
            Client.Dispose();
        }
    }

    private static MimeMessage Message(string from, string to, string text)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = "mailkit";
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }

    private static IEnumerable<MailboxAddress> To(params string[] addresses) => addresses.Select(a => new MailboxAddress("", a));

    [Fact]
    public async Task Starttls_pipelining_and_8bitmime_over_data()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var session = new Session();
        await session.Client.ConnectAsync("127.0.0.1", listener.Endpoint.Port, SecureSocketOptions.StartTls);
        var caps = session.Client.Capabilities;
        Assert.True(session.Client.IsSecure);
        // STARTTLS was offered once, before TLS, and not again in the EHLO after it.
        Assert.Single(session.Log.Split("\r\n"), l => l.StartsWith("S: 250-STARTTLS", StringComparison.Ordinal));
        foreach (var cap in new[] { SmtpCapabilities.Pipelining, SmtpCapabilities.EightBitMime, SmtpCapabilities.Chunking,
                     SmtpCapabilities.Dsn, SmtpCapabilities.UTF8, SmtpCapabilities.RequireTLS })
            Assert.True(caps.HasFlag(cap), $"{cap} announced after STARTTLS");
        Assert.DoesNotContain(session.Log.Split("\r\n"), l => l.StartsWith("S: 250-AUTH", StringComparison.Ordinal)); // the MX port has no AUTH

        var sender = QueueRows.UniqueSender("mailkit-8bit");
        var message = Message(sender, "one@hosted.example", "Grüße aus Köln\r\n");
        ((TextPart)message.Body!).ContentTransferEncoding = ContentEncoding.EightBit;
        await session.Client.SendAsync(message, new MailboxAddress("", sender), To("one@hosted.example", "two@hosted.example"));

        var log = session.Log.Split("\r\n");
        var mail = Array.FindIndex(log, l => l.StartsWith("C: MAIL FROM:", StringComparison.Ordinal));
        Assert.Contains("BODY=8BITMIME", log[mail]);
        Assert.StartsWith("C: RCPT TO:<one@hosted.example>", log[mail + 1]); // pipelined: no reply read between
        Assert.StartsWith("C: RCPT TO:<two@hosted.example>", log[mail + 2]);
        Assert.Contains("C: DATA", log);
        Assert.DoesNotContain(log, l => l.StartsWith("C: BDAT", StringComparison.Ordinal));

        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Equal(("encrypted", "8BITMIME"), (stored.Transport, stored.BodyType));
        Assert.Equal(["one@hosted.example", "two@hosted.example"], stored.Recipients.Select(r => r.Address));
        Assert.Contains("Grüße aus Köln\r\n", stored.Body);
    }

    [Fact]
    public async Task Bdat_chunks_arrive_byte_for_byte()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var session = new Session(binary: true);
        await session.Client.ConnectAsync("127.0.0.1", listener.Endpoint.Port, SecureSocketOptions.StartTls);
        var sender = QueueRows.UniqueSender("mailkit-bdat");
        var text = string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i} .leading dot? no: {i}\r\n.\r\n"));
        var message = Message(sender, "bdat@hosted.example", text);
        await session.Client.SendAsync(message, new MailboxAddress("", sender), To("bdat@hosted.example"));

        Assert.Contains(session.Log.Split("\r\n"), l => l.StartsWith("C: BDAT ", StringComparison.Ordinal) && l.EndsWith(" LAST", StringComparison.Ordinal));
        Assert.DoesNotContain("C: DATA", session.Log.Split("\r\n"));
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        using var sent = new MemoryStream();
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        message.WriteTo(format, sent);
        // What MailKit serialised is what Relay stored after its own Received line: no dot-stuffing, no rewriting.
        Assert.EndsWith(Encoding.UTF8.GetString(sent.ToArray()), stored.Body);
    }

    [Fact]
    public async Task Smtputf8_addresses_are_accepted_and_flagged()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var session = new Session();
        await session.Client.ConnectAsync("127.0.0.1", listener.Endpoint.Port, SecureSocketOptions.StartTls);
        var sender = $"jörg-{Guid.NewGuid():N}@sender.example";
        var message = Message(sender, "bøb@hosted.example", "hej\r\n");
        await session.Client.SendAsync(message, new MailboxAddress("", sender), To("bøb@hosted.example"));

        Assert.Contains(session.Log.Split("\r\n"), l => l.StartsWith($"C: MAIL FROM:<{sender}>", StringComparison.Ordinal) && l.Contains("SMTPUTF8"));
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.True(stored.SmtpUtf8);
        Assert.Equal("bøb@hosted.example", stored.Recipients.Single().Address);
    }

    [Fact]
    public async Task Dsn_parameters_are_stored_as_sent()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var session = new Session(notify: DeliveryStatusNotification.Success | DeliveryStatusNotification.Failure, envid: "mk-env-1");
        session.Client.DeliveryStatusNotificationType = DeliveryStatusNotificationType.HeadersOnly;
        await session.Client.ConnectAsync("127.0.0.1", listener.Endpoint.Port, SecureSocketOptions.StartTls);
        var sender = QueueRows.UniqueSender("mailkit-dsn");
        await session.Client.SendAsync(Message(sender, "dsn@hosted.example", "dsn\r\n"), new MailboxAddress("", sender), To("dsn@hosted.example"));

        var mail = session.Log.Split("\r\n").Single(l => l.StartsWith("C: MAIL FROM:", StringComparison.Ordinal));
        Assert.Contains("RET=HDRS", mail);
        Assert.Contains("ENVID=mk-env-1", mail);
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Equal(("mk-env-1", "HDRS"), (stored.Envid, stored.Ret));
        var recipient = stored.Recipients.Single();
        Assert.Equal("SUCCESS,FAILURE", recipient.Notify);
        // MailKit adds ORCPT itself (rfc822;address): Relay keeps what it was given.
        var rcpt = session.Log.Split("\r\n").Single(l => l.StartsWith("C: RCPT TO:", StringComparison.Ordinal));
        if (rcpt.Contains("ORCPT=")) Assert.Equal(rcpt[(rcpt.IndexOf("ORCPT=", StringComparison.Ordinal) + 6)..].Split(' ')[0], recipient.Orcpt);
        else Assert.Null(recipient.Orcpt);
    }

    [Fact]
    public async Task Submission_needs_auth_after_starttls_and_records_the_user()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o =>
        {
            o.Submission = [new IPEndPoint(IPAddress.Loopback, 0)];
            o.Credentials = new Dictionary<string, string> { ["alice"] = PasswordHasher.Hash(Password, PasswordHasher.MinimumIterations) };
        });
        var port = listener.Role.SubmissionEndpoints[0].Port;
        var sender = QueueRows.UniqueSender("mailkit-auth");

        await using (var anonymous = new Session())
        {
            await anonymous.Client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.StartTls);
            Assert.True(anonymous.Client.Capabilities.HasFlag(SmtpCapabilities.Authentication));
            Assert.Contains("PLAIN", anonymous.Client.AuthenticationMechanisms);
            await Assert.ThrowsAsync<AuthenticationException>(() => anonymous.Client.AuthenticateAsync("alice", "wrong password"));
            var refused = await Assert.ThrowsAsync<ServiceNotAuthenticatedException>(() =>
                anonymous.Client.SendAsync(Message(sender, "friend@elsewhere.example", "x\r\n"), new MailboxAddress("", sender), To("friend@elsewhere.example")));
            Assert.StartsWith("5.7.0", refused.Message);
            Assert.Contains(anonymous.Log.Split("\r\n"), l => l.StartsWith("S: 530 ", StringComparison.Ordinal));
        }

        await using var session = new Session();
        await session.Client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.StartTls);
        await session.Client.AuthenticateAsync("alice", Password);
        Assert.DoesNotContain(Password, session.Log); // MailKit's log redacts the secret; nothing in it to leak
        await session.Client.SendAsync(Message(sender, "friend@elsewhere.example", "relayed\r\n"), new MailboxAddress("", sender),
            To("friend@elsewhere.example"));
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Equal(("alice", "encrypted", "friend@elsewhere.example"), (stored.ClientAuth, stored.Transport, stored.Recipients.Single().Address));
    }
}
