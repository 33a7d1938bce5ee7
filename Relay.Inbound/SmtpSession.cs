using System.Net;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Smtp.Protocol;
using Relay.Smtp.Server;

namespace Relay.Inbound;

/// <summary>Which listener a session came in on; the words are the ones stored in inbound_sessions.listener.</summary>
public enum ListenerKind { Smtp, Submission, ImplicitTls }

/// <summary>Ends a session after its last reply was written (QUIT, 421, 554 5.5.0, TLS injection, …).</summary>
internal sealed class SessionEndException(string reason) : Exception(reason);

/// <summary>
/// One inbound SMTP session: frames command lines, consults <see cref="SmtpStateTable"/>, runs the command
/// and writes exactly one reply per command line. Split in parts: this file (loop, framing, pipelining
/// and error rules), Transaction (MAIL/RCPT/DATA/BDAT/enqueue), Tls (STARTTLS, AUTH).
/// </summary>
internal sealed partial class SmtpSession
{
    // RFC 2920 §3.1: these end a pipelined group; input already waiting behind them is a protocol violation.
    private static readonly HashSet<SmtpVerb> MustBeLast = [SmtpVerb.Helo, SmtpVerb.Ehlo, SmtpVerb.Data, SmtpVerb.StartTls, SmtpVerb.Auth];

    private readonly SmtpListenerOptions _options;
    private readonly RelayDatabase _db;
    private readonly ILogger _logger;
    private readonly SmtpConnection _connection;
    private readonly ListenerKind _kind;
    private readonly RelayAccess _access;
    private readonly TlsContext _tls;
    private readonly IPAddress _client;
    private readonly SessionSlot _slot;
    private readonly ClientRates _rates;
    private readonly DataMemory _memory;
    // Command reads end on a soft stop or when the listener ends this session early (stress mode, making room).
    private readonly CancellationTokenSource _commandReads;
    // Soft stop: no new commands (idle sessions get 421 at once). Hard stop: abort whatever is in progress.
    private readonly CancellationToken _draining;
    private readonly CancellationToken _stopping;
    private CommandLineFramer _framer;
    private SmtpState _state = SmtpState.Connected;
    private string? _helo;
    private bool _extended;
    private readonly SessionErrors _errors;
    private int _messages;
    private InboundSecurity _security = InboundSecurity.Cleartext;
    private bool _clientCertificateVerified;
    private string? _authUser;
    /// <summary>Set by QUIT: the command loop returns normally. (A SessionEndException for every QUIT was three to four
    /// first-chance exceptions per session, rethrown at each async frame: dotnet-counters, bench/README.md.)</summary>
    private bool _quit;

    public SmtpSession(SmtpListenerOptions options, RelayDatabase db, ILogger logger, SmtpConnection connection, ListenerKind kind,
        RelayAccess access, TlsContext tls, IPAddress client, SessionSlot slot, ClientRates rates, DataMemory memory, Func<bool> inStress,
        CancellationToken draining, CancellationToken stopping)
    {
        _options = options;
        _db = db;
        _logger = logger;
        _connection = connection;
        _kind = kind;
        _access = access;
        _tls = tls;
        _client = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        _slot = slot;
        _rates = rates;
        _memory = memory;
        _draining = draining;
        _stopping = stopping;
        _commandReads = CancellationTokenSource.CreateLinkedTokenSource(draining, slot.Ending);
        _framer = new CommandLineFramer(options.CommandLineLimit);
        _errors = new SessionErrors(options, inStress);
    }

    private string ListenerWord => _kind switch { ListenerKind.Submission => "submission", ListenerKind.ImplicitTls => "smtps", _ => "smtp" };
    private bool TlsActive => !_security.IsCleartext;
    private bool AuthOffered => _kind != ListenerKind.Smtp && _options.Credentials.Count > 0;

    private SessionFacts Facts => new(TlsOffered: true, TlsActive, AuthOffered, _authUser is not null, AuthRequired: _kind != ListenerKind.Smtp);

    private Task<long?>? _sessionId;
    private string _endReason = "quit";

    /// <summary>Runs the protocol until the client leaves or the session is ended; <see cref="RecordEndAsync"/> then writes the record.</summary>
    public async Task RunAsync()
    {
        var endReason = "quit";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        InboundMetrics.SessionStarted();
        // Recorded in the background: a slow or absent database must not delay the greeting (mail then gets 451 at end of data).
        _sessionId = RecordStartAsync();
        try
        {
            if (_kind == ListenerKind.ImplicitTls && !await HandshakeAsync().ConfigureAwait(false)) { endReason = "tls-handshake-failed"; return; }
            if (_options.GreetingDelay > TimeSpan.Zero)
                try { await Task.Delay(_options.GreetingDelay, _draining).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
            // Even without a delay, bytes that are already here came before our greeting: an early talker (spam bots, injectors).
            // (After an implicit-TLS handshake only the configured delay counts: TLS records may still be in flight.)
            if ((_kind != ListenerKind.ImplicitTls || _options.GreetingDelay > TimeSpan.Zero) && _connection.HasPendingInput)
            {
                _logger.LogInformation("smtp: {Client} talked before the greeting", _client);
                await ReplyAsync(Replies.ImproperPipelining).ConfigureAwait(false);
                endReason = "early-talker";
                return;
            }
            await ReplyAsync(Replies.Greeting(_options.Hostname)).ConfigureAwait(false);
            await CommandLoopAsync().ConfigureAwait(false);
            endReason = _quit ? "quit" : "disconnected";
        }
        catch (SessionEndException e) { endReason = e.Message; }
        catch (OperationCanceledException) when (_slot.Ended is { } ended && !_draining.IsCancellationRequested)
        {
            // Ended by the listener (stress mode, room for a new client, descriptors): the reply says why.
            endReason = ended.Reason;
            await TryReplyAsync(ended.Reply).ConfigureAwait(false);
        }
        catch (SmtpTimeoutException)
        {
            endReason = "timeout";
            await TryReplyAsync(Replies.Timeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_draining.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
            endReason = "shutdown";
            await TryReplyAsync(Replies.ShuttingDown).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException
                                       or System.Security.Authentication.AuthenticationException)
        {
            endReason = "connection-lost";
            _logger.LogDebug(e, "smtp: connection from {Client} lost", _client);
        }
        finally
        {
            ReleaseContent();
            _commandReads.Dispose();
            _endReason = endReason;
            InboundMetrics.SessionEnded(ListenerWord, _security.Transport, endReason, clock.Elapsed);
            // The one line per session: who, how protected, what came of it. The user name is logged, never a credential.
            _logger.LogInformation(
                "smtp: session from {Client} on {Listener} ended ({EndReason}) after {Seconds:0.###} s: helo {Helo}, {Transport} tls {TlsVersion} {TlsCipher}, auth {AuthUser}, {Messages} message(s) queued, {Errors} error(s)",
                _client, ListenerWord, endReason, clock.Elapsed.TotalSeconds, _helo ?? "-", _security.Transport, _security.TlsVersion ?? "none",
                _security.TlsCipher ?? "-", _authUser ?? "-", _messages, _errors.Count);
        }
    }

    /// <summary>
    /// Writes the session's final record. Called by the listener after the connection is closed and its
    /// per-client slot released, so bookkeeping never holds a client's slot or delays its next connection.
    /// </summary>
    public async Task RecordEndAsync()
    {
        if (_sessionId is null || await _sessionId.ConfigureAwait(false) is not long id) return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _db.Sessions.EndAsync(id, _helo, _security, _authUser, _messages, _endReason, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) { _logger.LogWarning(e, "smtp: could not record session end for {Client}", _client); }
    }

    private async Task<long?> RecordStartAsync()
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            return await _db.Sessions.StartAsync(new InboundSessionStart(ListenerWord, _client.ToString()), deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "smtp: could not record session start for {Client}", _client);
            return null;
        }
    }

    private async Task CommandLoopAsync()
    {
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            // Postfix checks before reading the next command: the reply that made the last error is followed by the 421.
            if (_errors.OverHardLimit)
            {
                _logger.LogInformation("smtp: too many errors from {Client} ({Errors})", _client, _errors.Count);
                InboundMetrics.Refusal("session", "too-many-errors");
                await ReplyAsync(Replies.TooManyErrors).ConfigureAwait(false);
                throw new SessionEndException("too-many-errors");
            }
            var frame = _framer.Next(_connection.Buffered);
            if (frame.Kind == FrameKind.NeedMore)
            {
                _connection.Consume(frame.Consumed);
                _commandReads.Token.ThrowIfCancellationRequested();
                if (!await _connection.ReadMoreAsync(CommandReadTimeout(waiting), _commandReads.Token).ConfigureAwait(false)) return;
                continue;
            }
            // Activity is a whole command line, never a byte: a client trickling bytes stays idle (slowloris).
            waiting.Restart();
            _slot.Touch();
            if (frame.Kind == FrameKind.TooLong)
            {
                _connection.Consume(frame.Consumed);
                await ErrorAsync(Replies.LineTooLong).ConfigureAwait(false);
                continue;
            }
            var parse = CommandParser.Parse(_connection.Buffered[..frame.LineLength], _transaction?.Parameters.SmtpUtf8 ?? false);
            _connection.Consume(frame.Consumed);
            if (parse.Error is not null) { await ErrorAsync(parse.Error).ConfigureAwait(false); continue; }
            await DispatchAsync(parse.Command!).ConfigureAwait(false);
            if (_quit) return;
        }
    }

    private async Task DispatchAsync(SmtpCommand command)
    {
        var decision = SmtpStateTable.Decide(_state, command.Verb, Facts);
        if (!decision.Allowed)
        {
            // A refused BDAT's chunk still follows on the wire (RFC 3030 §2): skip it so it is never read as commands.
            if (command is BdatCommand refused) await SkipAsync(refused.Size).ConfigureAwait(false);
            await ErrorAsync(decision.Reply!).ConfigureAwait(false);
            return;
        }

        // Pipelining (RFC 2920): without EHLO nothing may be pipelined; after a group-ending command nothing may wait.
        var waiting = command.Verb == SmtpVerb.StartTls ? _connection.HasPendingInput : _connection.BufferedCount > 0;
        if (waiting && command.Verb != SmtpVerb.Quit && command.Verb != SmtpVerb.Bdat
            && (MustBeLast.Contains(command.Verb) || !_extended))
        {
            if (command.Verb == SmtpVerb.StartTls)
            {
                // CVE-2011-0411: plaintext sent behind STARTTLS would be executed as if it came over TLS. Answer 220
                // (what the client asked for), then discard it and drop the session without ever reading it.
                await ReplyAsync(Replies.ReadyToStartTls).ConfigureAwait(false);
                _connection.DiscardBuffered();
                _logger.LogWarning("smtp: {Client} pipelined plaintext after STARTTLS; dropped", _client);
                throw new SessionEndException("starttls-injection");
            }
            _logger.LogInformation("smtp: improper pipelining after {Verb} from {Client}", command.Verb, _client);
            await ReplyAsync(Replies.ImproperPipelining).ConfigureAwait(false);
            throw new SessionEndException("improper-pipelining");
        }

        switch (command)
        {
            case HeloCommand helo:
                ResetTransaction();
                _helo = helo.Domain;
                _extended = helo.Extended;
                _state = decision.Next;
                await JunkReplyAsync(helo.Extended ? EhloReply() : new SmtpReply(250, null, _options.Hostname)).ConfigureAwait(false);
                return;
            case MailCommand mail:
                await MailAsync(mail, decision.Next).ConfigureAwait(false);
                return;
            case RcptCommand rcpt:
                await RcptAsync(rcpt, decision.Next).ConfigureAwait(false);
                return;
            case BdatCommand bdat:
                await BdatAsync(bdat).ConfigureAwait(false);
                return;
            case AuthCommand auth:
                await AuthAsync(auth).ConfigureAwait(false);
                return;
        }
        switch (command.Verb)
        {
            case SmtpVerb.Data:
                await DataAsync().ConfigureAwait(false);
                return;
            case SmtpVerb.Rset:
                ResetTransaction();
                _state = decision.Next;
                await JunkReplyAsync(Replies.ResetOk).ConfigureAwait(false);
                return;
            case SmtpVerb.Noop:
                await JunkReplyAsync(Replies.Ok).ConfigureAwait(false);
                return;
            case SmtpVerb.Help:
                await JunkReplyAsync(Replies.Help).ConfigureAwait(false);
                return;
            case SmtpVerb.Vrfy:
                await JunkReplyAsync(Replies.CannotVerify).ConfigureAwait(false);
                return;
            case SmtpVerb.Quit:
                await ReplyAsync(Replies.Closing(_options.Hostname)).ConfigureAwait(false);
                _quit = true;
                return;
            case SmtpVerb.StartTls:
                await StartTlsAsync().ConfigureAwait(false);
                return;
        }
        await ErrorAsync(Replies.NotImplemented).ConfigureAwait(false);
    }

    // The idle timeout counts from the end of the previous command, not from the last byte: a command line must be
    // complete within it, so a byte every few seconds cannot hold a session open for ever.
    private TimeSpan CommandReadTimeout(System.Diagnostics.Stopwatch waiting)
    {
        var left = _options.IdleTimeout - waiting.Elapsed;
        if (left <= TimeSpan.Zero) throw new SmtpTimeoutException();
        return left;
    }

    private SmtpReply EhloReply()
    {
        var lines = new List<string> { _options.Hostname, "PIPELINING", $"SIZE {_options.MessageSizeLimit}" };
        if (!TlsActive) lines.Add("STARTTLS");
        if (AuthOffered && TlsActive && _authUser is null) lines.Add("AUTH PLAIN LOGIN");
        // No BINARYMIME: the queue holds CRLF lines only (no bare CR or LF is ever stored), and binary content could
        // not be relayed to the many peers that lack it.
        lines.AddRange(["ENHANCEDSTATUSCODES", "8BITMIME", "CHUNKING", "DSN", "SMTPUTF8"]);
        // RFC 8689 §4: REQUIRETLS is offered only over TLS.
        if (TlsActive) lines.Add("REQUIRETLS");
        return new SmtpReply(250, null, lines);
    }

    private async Task ReplyAsync(SmtpReply reply)
    {
        // smtpd_error_sleep_time: past the soft error limit every reply waits, so a client making mistakes goes slowly.
        if (_errors.ReplyDelay is { Ticks: > 0 } delay) await Task.Delay(delay, _stopping).ConfigureAwait(false);
        await _connection.WriteAsync(reply, _options.IdleTimeout, _stopping).ConfigureAwait(false);
    }

    private async Task TryReplyAsync(SmtpReply reply)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _connection.WriteAsync(reply, TimeSpan.FromSeconds(5), cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SmtpTimeoutException or ObjectDisposedException or OperationCanceledException
                                       or System.Net.Sockets.SocketException or NotSupportedException or InvalidOperationException) { }
    }

    /// <summary>A refused command: one error (counted after its reply, as Postfix does; <see cref="SessionErrors"/>).</summary>
    private async Task ErrorAsync(SmtpReply reply)
    {
        await ReplyAsync(reply).ConfigureAwait(false);
        _errors.Error();
    }

    /// <summary>A junk command's reply (NOOP, RSET, HELO…): free until Relay:Smtp:JunkCommandLimit, then an error each.</summary>
    private async Task JunkReplyAsync(SmtpReply reply)
    {
        await ReplyAsync(reply).ConfigureAwait(false);
        _errors.Junk();
    }
}
