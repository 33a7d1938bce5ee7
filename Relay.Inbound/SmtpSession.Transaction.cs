using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Smtp.Protocol;
using Relay.Smtp.Server;

namespace Relay.Inbound;

internal sealed partial class SmtpSession
{
    /// <summary>The open mail transaction: reverse-path, parameters and the recipients accepted so far.</summary>
    private sealed record Transaction(string Sender, MailParameters Parameters, List<NewRecipient> Recipients);

    private Transaction? _transaction;
    private DataReader? _chunks;
    // The reader whose content is buffered now (DATA or the BDAT chunks): its memory goes back to the budget when done.
    private DataReader? _content;

    private void ReleaseContent()
    {
        if (_content is null) return;
        _memory.Release(_content.Reserved);
        // The queued message holds its own copy (ReceivedHeader.Prepend), so the reader's buffer can go back now.
        _content.Release();
        _content = null;
    }

    private void ResetTransaction()
    {
        _transaction = null;
        _chunks = null;
        _slot.InTransaction = false;
    }

    public static readonly SmtpReply MessageRateExceeded = new(450, "4.7.1", "Error: too much mail from your address; try again later");

    private async Task MailAsync(MailCommand mail, SmtpState next)
    {
        var p = mail.Parameters;
        if (p.BodyType == "BINARYMIME") { InboundMetrics.Refusal("message", "binarymime"); await ErrorAsync(new SmtpReply(555, "5.5.4", "Error: BODY=BINARYMIME is not supported")).ConfigureAwait(false); return; }
        if (p.Size is long size && size > _options.MessageSizeLimit) { InboundMetrics.Refusal("message", "message-too-big"); await ErrorAsync(Replies.MessageTooBig).ConfigureAwait(false); return; }
        if (p.RequireTls && !TlsActive) { InboundMetrics.Refusal("message", "requiretls-without-tls"); await ErrorAsync(Replies.RequireTlsWithoutTls).ConfigureAwait(false); return; }
        if (_kind != ListenerKind.Smtp && !TlsActive) { InboundMetrics.Refusal("message", "starttls-required"); await ErrorAsync(Replies.MustIssueStartTls).ConfigureAwait(false); return; }
        // anvil's message rate: counted per MAIL FROM, accepted or not later; refused before the transaction opens.
        if (_rates.MessageOverLimit(_client))
        {
            InboundMetrics.Refusal("message", "client-message-rate");
            _logger.LogInformation("smtp: {Client} is over Relay:Smtp:MessageRateLimit ({Limit}/min)", _client, _options.MessageRateLimit);
            await ErrorAsync(MessageRateExceeded).ConfigureAwait(false);
            return;
        }
        _transaction = new Transaction(mail.Sender?.ToString() ?? "", p, []);
        _chunks = null;
        _slot.InTransaction = true;
        _state = next;
        await ReplyAsync(Replies.SenderOk).ConfigureAwait(false);
    }

    private async Task RcptAsync(RcptCommand rcpt, SmtpState next)
    {
        var transaction = _transaction!;
        var recipient = rcpt.Recipient;
        switch (_access.Decide(recipient, _client, _authUser is not null))
        {
            case RecipientAccess.RelayDenied:
                _logger.LogInformation("smtp: relay denied from {Client} to {Recipient}", _client, recipient);
                InboundMetrics.Refusal("recipient", "relay-denied");
                await ErrorAsync(Replies.RelayDenied).ConfigureAwait(false);
                return;
            case RecipientAccess.UnknownUser:
                InboundMetrics.Refusal("recipient", "unknown-user");
                await ErrorAsync(Replies.UnknownRecipient).ConfigureAwait(false);
                return;
        }
        // <postmaster> without a domain is ours (RFC 5321 §4.5.1): give it one so it has a next hop.
        var address = recipient.Domain is null
            ? $"postmaster@{_access.Domains.FirstOrDefault() ?? _options.Hostname}"
            : recipient.ToString();
        // A repeated recipient is acknowledged but queued once, so it is delivered once.
        // (Local parts may be case-sensitive, RFC 5321 §2.4; domains are not.)
        if (!transaction.Recipients.Any(r => SameMailbox(r.Address, address)))
        {
            // Not counted as an error (Postfix's recipient overshoot): a client pipelining a long list must not be cut off for it.
            if (transaction.Recipients.Count >= _options.RecipientLimit) { InboundMetrics.Refusal("recipient", "too-many-recipients"); await ReplyAsync(Replies.TooManyRecipients).ConfigureAwait(false); return; }
            transaction.Recipients.Add(new NewRecipient(address, rcpt.Parameters.Notify, rcpt.Parameters.Orcpt));
        }
        _state = next;
        await ReplyAsync(Replies.RecipientOk).ConfigureAwait(false);
    }

    private static bool SameMailbox(string a, string b)
    {
        int atA = a.LastIndexOf('@'), atB = b.LastIndexOf('@');
        return atA == atB && string.CompareOrdinal(a, 0, b, 0, atA) == 0
            && string.Equals(a[(atA + 1)..], b[(atB + 1)..], StringComparison.OrdinalIgnoreCase);
    }

    private DataReaderOptions ReaderOptions => new(_options.MessageSizeLimit, _options.BareLineEndings, _options.TextLineLimit, _memory.TryReserve);

    private DataReader NewReader(bool dotTransparency)
    {
        ReleaseContent();
        return _content = new DataReader(ReaderOptions, dotTransparency);
    }

    private async Task DataAsync()
    {
        var transaction = _transaction!;
        await ReplyAsync(Replies.StartMailInput).ConfigureAwait(false);
        var reader = NewReader(dotTransparency: true);
        var started = DateTimeOffset.UtcNow;
        while (true)
        {
            var consumed = reader.Feed(_connection.Buffered);
            _connection.Consume(consumed);
            if (reader.Ended) break;
            if (!await _connection.ReadMoreAsync(DataReadTimeout(started, reader.StoredOctets), _stopping).ConfigureAwait(false))
                throw new SessionEndException("disconnected-in-data");
        }
        _state = SmtpState.Greeted;
        await FinishMessageAsync(transaction, reader).ConfigureAwait(false);
    }

    private async Task BdatAsync(BdatCommand bdat)
    {
        var transaction = _transaction!;
        if (bdat.Size > _options.MessageSizeLimit)
        {
            // One chunk larger than any message we accept: reading it only to refuse it would let a client stream without end.
            InboundMetrics.Refusal("message", "message-too-big");
            await ReplyAsync(Replies.MessageTooBig).ConfigureAwait(false);
            throw new SessionEndException("bdat-chunk-too-big");
        }
        _chunks ??= NewReader(dotTransparency: false);
        var reader = _chunks;
        var remaining = bdat.Size;
        var started = DateTimeOffset.UtcNow;
        while (remaining > 0)
        {
            if (_connection.BufferedCount == 0
                && !await _connection.ReadMoreAsync(DataReadTimeout(started, bdat.Size - remaining), _stopping).ConfigureAwait(false))
                throw new SessionEndException("disconnected-in-bdat");
            var take = (int)Math.Min(remaining, _connection.BufferedCount);
            reader.Feed(_connection.Buffered[..take]);
            _connection.Consume(take);
            remaining -= take;
        }
        if (!bdat.Last)
        {
            _state = SmtpState.Chunking;
            await ReplyAsync(new SmtpReply(250, "2.0.0", $"Ok: {bdat.Size} octets received")).ConfigureAwait(false);
            return;
        }
        reader.Complete();
        _state = SmtpState.Greeted;
        await FinishMessageAsync(transaction, reader).ConfigureAwait(false);
    }

    private async Task SkipAsync(long size)
    {
        var started = DateTimeOffset.UtcNow;
        var remaining = size;
        while (remaining > 0)
        {
            if (_connection.BufferedCount == 0
                && !await _connection.ReadMoreAsync(DataReadTimeout(started, size - remaining), _stopping).ConfigureAwait(false))
                throw new SessionEndException("disconnected-in-bdat");
            var take = (int)Math.Min(remaining, _connection.BufferedCount);
            _connection.Consume(take);
            remaining -= take;
        }
    }

    // The idle timeout per read, but the whole body may take no longer than DataTimeout plus size / minimum rate.
    private TimeSpan DataReadTimeout(DateTimeOffset started, long octets)
    {
        if (_options.MinimumDataRate <= 0) return _options.IdleTimeout;
        var budget = _options.DataTimeout + TimeSpan.FromSeconds((double)octets / _options.MinimumDataRate);
        var left = started + budget - DateTimeOffset.UtcNow;
        if (left <= TimeSpan.Zero) throw new SmtpTimeoutException();
        return left < _options.IdleTimeout ? left : _options.IdleTimeout;
    }

    /// <summary>
    /// End of data: refuse on any limit, else prepend Received: and commit. 250 is written only after
    /// EnqueueAsync returned (message and every recipient durable); a database that is full or takes no writes is
    /// 452 4.3.1, any other failure 451 4.3.0, and the session (and listener) carry on.
    /// </summary>
    private async Task FinishMessageAsync(Transaction transaction, DataReader reader)
    {
        try { await FinishMessageCoreAsync(transaction, reader).ConfigureAwait(false); }
        finally { ReleaseContent(); }
    }

    public static readonly SmtpReply HeaderTooBig = new(552, "5.3.4", "Error: message header size exceeds limit");
    public static readonly SmtpReply NoMemory = new(451, "4.3.1", "Error: insufficient system resources; try again later");

    public static SmtpReply InsufficientStorage(string cause) => new(452, "4.3.1", $"Error: insufficient system storage ({cause}); try again later");

    private async Task FinishMessageCoreAsync(Transaction transaction, DataReader reader)
    {
        ResetTransaction();
        var (refusal, why) = reader.Error switch
        {
            DataError.TooBig => (Replies.MessageTooBig, "message-too-big"),
            DataError.BareLineEnding => (Replies.BareLineEnding, "bare-line-ending"),
            DataError.LineTooLong => (Replies.TextLineTooLong, "line-too-long"),
            DataError.NoMemory => (NoMemory, "data-memory-limit"),
            _ => ((SmtpReply?)null, ""),
        };
        // Refused rather than cut (Postfix's header_size_limit truncates): we never rewrite what we relay.
        if (refusal is null && HeaderScanner.HeaderLength(reader.Body.Span) > _options.HeaderSizeLimit) (refusal, why) = (HeaderTooBig, "header-too-big");
        if (refusal is null && HeaderScanner.CountReceived(reader.Body.Span) >= _options.HopCountLimit) (refusal, why) = (Replies.TooManyHops, "too-many-hops");
        if (refusal is not null)
        {
            InboundMetrics.Refusal("message", why);
            _logger.LogInformation("smtp: message from {Client} refused: {Reply}", _client, refusal);
            await ErrorAsync(refusal).ConfigureAwait(false);
            return;
        }

        var received = ReceivedHeader.Build(new ReceivedInfo(_helo, _client, _options.Hostname, _extended, _security.TlsVersion,
            _security.TlsCipher, _clientCertificateVerified, _authUser is not null, null,
            transaction.Recipients.Count == 1 ? transaction.Recipients[0].Address : null, DateTimeOffset.UtcNow));
        var body = ReceivedHeader.Prepend(received, reader.Body.Span);

        var p = transaction.Parameters;
        var message = new NewMessage(transaction.Sender, body, _client.ToString(), _helo, _security, _authUser, p.BodyType, p.SmtpUtf8,
            p.RequireTls, p.Envid, p.Ret);
        string queueId;
        try
        {
            // Not tied to the stop tokens: cancelling a commit in flight would leave its outcome unknown to us.
            using var deadline = new CancellationTokenSource(_options.EnqueueTimeout);
            queueId = await _db.Queue.EnqueueAsync(message, transaction.Recipients, deadline.Token).ConfigureAwait(false);
        }
        catch (QueueStorageRefusedException e)
        {
            // RFC 5321 §4.2.3 452 / RFC 3463 4.3.1: the client should come back later (or try another MX) rather than
            // retry at once. The cause is Relay's words; the server's message is for the operator's log only.
            _logger.LogError(e, "smtp: enqueue refused for a message from {Client} ({Cause}); answered 452", _client, e.Cause);
            InboundMetrics.Refusal("message", "enqueue-storage-refused");
            await ErrorAsync(InsufficientStorage(e.Cause)).ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogError(e, "smtp: enqueue failed for a message from {Client}; answered 451", _client);
            InboundMetrics.Refusal("message", "enqueue-failed");
            await ErrorAsync(Replies.LocalError).ConfigureAwait(false);
            return;
        }
        _messages++;
        _errors.Forgive();
        InboundMetrics.MessageAccepted(ListenerWord, _security.Transport, transaction.Recipients.Count, body.Length);
        _logger.LogInformation("smtp: {QueueId} queued from {Client} ({Transport}), {Recipients} recipient(s), {Size} octets",
            queueId, _client, _security.Transport, transaction.Recipients.Count, body.Length);
        await ReplyAsync(Replies.Queued(queueId)).ConfigureAwait(false);
    }
}
