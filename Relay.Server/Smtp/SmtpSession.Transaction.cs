using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Smtp.Protocol;
using Relay.Smtp.Server;

namespace Relay.Server.Smtp;

internal sealed partial class SmtpSession
{
    /// <summary>The open mail transaction: reverse-path, parameters and the recipients accepted so far.</summary>
    private sealed record Transaction(string Sender, MailParameters Parameters, List<NewRecipient> Recipients);

    private Transaction? _transaction;
    private DataReader? _chunks;

    private void ResetTransaction()
    {
        _transaction = null;
        _chunks = null;
    }

    private async Task MailAsync(MailCommand mail, SmtpState next)
    {
        var p = mail.Parameters;
        if (p.Size is long size && size > _options.MessageSizeLimit) { await ErrorAsync(Replies.MessageTooBig).ConfigureAwait(false); return; }
        if (p.RequireTls && !TlsActive) { await ErrorAsync(Replies.RequireTlsWithoutTls).ConfigureAwait(false); return; }
        if (_kind != ListenerKind.Smtp && !TlsActive) { await ErrorAsync(Replies.MustIssueStartTls).ConfigureAwait(false); return; }
        _transaction = new Transaction(mail.Sender?.ToString() ?? "", p, []);
        _chunks = null;
        _state = next;
        await ReplyAsync(Replies.SenderOk).ConfigureAwait(false);
    }

    private async Task RcptAsync(RcptCommand rcpt, SmtpState next)
    {
        var transaction = _transaction!;
        if (transaction.Recipients.Count >= _options.RecipientLimit) { await ErrorAsync(Replies.TooManyRecipients).ConfigureAwait(false); return; }
        var recipient = rcpt.Recipient;
        switch (_access.Decide(recipient, _client, _authUser is not null))
        {
            case RecipientVerdict.RelayDenied:
                _logger.LogInformation("smtp: relay denied from {Client} to {Recipient}", _client, recipient);
                await ErrorAsync(Replies.RelayDenied).ConfigureAwait(false);
                return;
            case RecipientVerdict.UnknownUser:
                await ErrorAsync(Replies.UnknownRecipient).ConfigureAwait(false);
                return;
        }
        // <postmaster> without a domain is ours (RFC 5321 §4.5.1): give it one so it has a next hop.
        var address = recipient.Domain is null
            ? $"postmaster@{_access.Domains.FirstOrDefault() ?? _options.Hostname}"
            : recipient.ToString();
        transaction.Recipients.Add(new NewRecipient(address, rcpt.Parameters.Notify, rcpt.Parameters.Orcpt));
        _state = next;
        await ReplyAsync(Replies.RecipientOk).ConfigureAwait(false);
    }

    private DataReaderOptions ReaderOptions => new(_options.MessageSizeLimit, _options.BareLineEndings, _options.TextLineLimit);

    private async Task DataAsync()
    {
        var transaction = _transaction!;
        if (transaction.Parameters.BodyType == "BINARYMIME")
        {
            await ErrorAsync(new SmtpReply(503, "5.5.1", "Error: BODY=BINARYMIME requires BDAT")).ConfigureAwait(false);
            return;
        }
        await ReplyAsync(Replies.StartMailInput).ConfigureAwait(false);
        var reader = new DataReader(ReaderOptions, dotTransparency: true);
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
        _chunks ??= new DataReader(ReaderOptions, dotTransparency: false, binary: transaction.Parameters.BodyType == "BINARYMIME");
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
    /// EnqueueAsync returned (message and every recipient durable); any failure is 451 4.3.0 and the
    /// session (and listener) carry on.
    /// </summary>
    private async Task FinishMessageAsync(Transaction transaction, DataReader reader)
    {
        ResetTransaction();
        var refusal = reader.Error switch
        {
            DataError.TooBig => Replies.MessageTooBig,
            DataError.BareLineEnding => Replies.BareLineEnding,
            DataError.LineTooLong => Replies.TextLineTooLong,
            _ => null,
        };
        if (refusal is null && HeaderScanner.CountReceived(reader.Body.Span) >= _options.HopCountLimit) refusal = Replies.TooManyHops;
        if (refusal is not null)
        {
            _logger.LogInformation("smtp: message from {Client} refused: {Reply}", _client, refusal);
            await ErrorAsync(refusal).ConfigureAwait(false);
            return;
        }

        var received = ReceivedHeader.Build(new ReceivedInfo(_helo, _client, _options.Hostname, _extended, _security.TlsVersion,
            _security.TlsCipher, _clientCertificateVerified, _authUser is not null, null,
            transaction.Recipients.Count == 1 ? transaction.Recipients[0].Address : null, DateTimeOffset.UtcNow));
        var body = new byte[received.Length + reader.Body.Length];
        received.CopyTo(body, 0);
        reader.Body.Span.CopyTo(body.AsSpan(received.Length));

        var p = transaction.Parameters;
        var message = new NewMessage(transaction.Sender, body, _client.ToString(), _helo, _security, _authUser, p.BodyType, p.SmtpUtf8,
            p.RequireTls, p.Envid, p.Ret);
        string queueId;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
            deadline.CancelAfter(_options.EnqueueTimeout);
            queueId = await _db.Queue.EnqueueAsync(message, transaction.Recipients, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogError(e, "smtp: enqueue failed for a message from {Client}; answered 451", _client);
            await ErrorAsync(Replies.LocalError).ConfigureAwait(false);
            return;
        }
        _messages++;
        _logger.LogInformation("smtp: {QueueId} queued from {Client} ({Transport}), {Recipients} recipient(s), {Size} octets",
            queueId, _client, _security.Transport, transaction.Recipients.Count, body.Length);
        await ReplyAsync(Replies.Queued(queueId)).ConfigureAwait(false);
    }
}
