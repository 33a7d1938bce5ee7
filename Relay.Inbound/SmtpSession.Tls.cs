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
                if (parts[0].Length > 0 && parts[0] != parts[1]) { await ErrorAsync(Replies.AuthFailed).ConfigureAwait(false); return; }
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
        _logger.LogInformation("smtp: authentication failed from {Client}", _client);
        await ErrorAsync(Replies.AuthFailed).ConfigureAwait(false);
    }

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
                if (!await _connection.ReadMoreAsync(_options.IdleTimeout, _draining).ConfigureAwait(false)) throw new SessionEndException("disconnected-in-auth");
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
