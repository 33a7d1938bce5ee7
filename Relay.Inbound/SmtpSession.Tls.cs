using System.Net.Security;
using System.Text;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Smtp.Protocol;
using Relay.Smtp.Server;

namespace Relay.Inbound;

internal sealed partial class SmtpSession
{
    private async Task StartTlsAsync()
    {
        await ReplyAsync(Replies.ReadyToStartTls).ConfigureAwait(false);
        if (!await HandshakeAsync().ConfigureAwait(false)) throw new SessionEndException("tls-handshake-failed");
        // RFC 3207 §4.2: forget everything learned before TLS, including the EHLO name and extensions.
        ResetTransaction();
        _helo = null;
        _extended = false;
        _state = SmtpState.Connected;
        _framer = new CommandLineFramer(_options.CommandLineLimit);
    }

    /// <summary>Server TLS handshake on the connection's stream; records the session's real security.</summary>
    private async Task<bool> HandshakeAsync()
    {
        // Nothing read in plaintext survives the switch (the caller already refused sessions that pipelined it).
        _connection.DiscardBuffered();
        var ssl = new SslStream(_connection.Stream, leaveInnerStreamOpen: false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        deadline.CancelAfter(_options.TlsHandshakeTimeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(_tls.ServerOptions(), deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException or OperationCanceledException)
        {
            _logger.LogInformation("smtp: TLS handshake with {Client} failed: {Error}", _client, e.Message);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return false;
        }
        _connection.ReplaceStream(ssl);
        var spki = ssl.RemoteCertificate is { } certificate ? TlsContext.SpkiSha256(certificate) : null;
        // A client certificate we did not verify against anything is recorded but never raises the transport above encrypted.
        _clientCertificateVerified = false;
        _security = InboundSecurity.Encrypted(TlsContext.ProtocolWord(ssl.SslProtocol), ssl.NegotiatedCipherSuite.ToString(), spki);
        return true;
    }

    /// <summary>RFC 4954 AUTH PLAIN / LOGIN, only on submission listeners and only over TLS (the table's guard).</summary>
    private async Task AuthAsync(AuthCommand auth)
    {
        // Locked out by failures in another session of this client meanwhile.
        if (_rates.AuthLockedOut(_client))
        {
            await ReplyAsync(AuthLockedOut).ConfigureAwait(false);
            throw new SessionEndException("auth-lockout");
        }
        string? user, password;
        switch (auth.Mechanism)
        {
            case "PLAIN":
            {
                var response = auth.InitialResponse ?? await ChallengeAsync("").ConfigureAwait(false);
                if (response is null) { await ErrorAsync(Replies.AuthCancelled).ConfigureAwait(false); return; }
                var decoded = Decode(response == "=" ? "" : response);
                var parts = decoded?.Split('\0');
                if (parts is not { Length: 3 }) { await ErrorAsync(Replies.Syntax("Error: malformed AUTH PLAIN response")).ConfigureAwait(false); return; }
                // authzid must be empty or equal to the user: we do not let one user act as another.
                if (parts[0].Length > 0 && parts[0] != parts[1]) { await AuthFailedAsync().ConfigureAwait(false); return; }
                (user, password) = (parts[1], parts[2]);
                break;
            }
            case "LOGIN":
            {
                var first = auth.InitialResponse ?? await ChallengeAsync("VXNlcm5hbWU6").ConfigureAwait(false);
                if (first is null) { await ErrorAsync(Replies.AuthCancelled).ConfigureAwait(false); return; }
                user = Decode(first);
                var second = await ChallengeAsync("UGFzc3dvcmQ6").ConfigureAwait(false);
                if (second is null) { await ErrorAsync(Replies.AuthCancelled).ConfigureAwait(false); return; }
                password = Decode(second);
                if (user is null || password is null) { await ErrorAsync(Replies.Syntax("Error: malformed AUTH LOGIN response")).ConfigureAwait(false); return; }
                break;
            }
            default:
                await ErrorAsync(new SmtpReply(504, "5.5.4", "Error: unsupported authentication mechanism")).ConfigureAwait(false);
                return;
        }
        if (_options.Credentials.TryGetValue(user, out var stored) && PasswordHasher.Verify(password, stored))
        {
            _authUser = user;
            _logger.LogInformation("smtp: {Client} authenticated as {User}", _client, user);
            await ReplyAsync(Replies.AuthSucceeded).ConfigureAwait(false);
            return;
        }
        await AuthFailedAsync().ConfigureAwait(false);
    }

    public static readonly SmtpReply AuthLockedOut = new(421, "4.7.0", "Error: too many failed authentications from your address; try again later");

    /// <summary>
    /// Password guessing is slowed and then stopped per client (Relay:Smtp:AuthFailureLimit per AuthFailureWindow):
    /// each failure's 535 waits longer (0.25 s, 0.5 s, 1 s … at most 8 s), and the failure that reaches the limit
    /// gets 421 4.7.0 and the session ends; until the window ends, the client's new submission connections get
    /// the same 421 before the greeting. A wrong user name and a wrong password look the same from outside.
    /// </summary>
    private async Task AuthFailedAsync()
    {
        var failures = _rates.AuthFailed(_client);
        _logger.LogInformation("smtp: authentication failed from {Client} ({Failures} in the window)", _client, failures);
        if (_options.AuthFailureLimit > 0 && failures >= _options.AuthFailureLimit)
        {
            InboundMetrics.Refusal("auth", "auth-lockout");
            _logger.LogWarning("smtp: {Client} locked out of AUTH after {Failures} failures within {Window}", _client, failures, _options.AuthFailureWindow);
            await ReplyAsync(AuthLockedOut).ConfigureAwait(false);
            throw new SessionEndException("auth-lockout");
        }
        InboundMetrics.Refusal("auth", "auth-failed");
        if (failures > 0)
            await Task.Delay(AuthFailureDelay(failures), _stopping).ConfigureAwait(false);
        await ErrorAsync(Replies.AuthFailed).ConfigureAwait(false);
    }

    internal static TimeSpan AuthFailureDelay(int failures) =>
        TimeSpan.FromMilliseconds(Math.Min(8000, 250 * Math.Pow(2, Math.Min(failures - 1, 10))));

    // Sends a 334 challenge and reads one response line; null when the client cancels with "*".
    private async Task<string?> ChallengeAsync(string challenge)
    {
        await ReplyAsync(new SmtpReply(334, null, challenge)).ConfigureAwait(false);
        while (true)
        {
            var frame = _framer.Next(_connection.Buffered);
            if (frame.Kind == FrameKind.NeedMore)
            {
                _connection.Consume(frame.Consumed);
                if (!await _connection.ReadMoreAsync(_options.IdleTimeout, _commandReads.Token).ConfigureAwait(false)) throw new SessionEndException("disconnected-in-auth");
                continue;
            }
            if (frame.Kind == FrameKind.TooLong) { _connection.Consume(frame.Consumed); return null; }
            var line = Encoding.ASCII.GetString(_connection.Buffered[..frame.LineLength]);
            _connection.Consume(frame.Consumed);
            return line.Trim() == "*" ? null : line.Trim();
        }
    }

    private static string? Decode(string base64)
    {
        try { return new UTF8Encoding(false, true).GetString(Convert.FromBase64String(base64)); }
        catch (Exception e) when (e is FormatException or DecoderFallbackException) { return null; }
    }
}
