using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Relay.Smtp.Client;

/// <summary>
/// One client connection to one SMTP server: connect, greeting, EHLO (HELO fallback), STARTTLS, the
/// envelope (pipelined when offered), DATA and QUIT. It reports replies and leaves decisions (defer,
/// bounce, fall back) to the caller; it throws <see cref="SmtpClientException"/> only when the session
/// cannot continue, naming the stage. Every step has its own deadline.
/// </summary>
public sealed class SmtpClientSession : IAsyncDisposable
{
    private readonly Socket socket;
    private readonly SmtpClientTimeouts timeouts;
    private Stream stream;
    private readonly byte[] buffer = new byte[ReplyParser.MaxReplyBytes + 4096];
    private int start;
    private int end;

    private SmtpClientSession(Socket socket, SmtpClientTimeouts timeouts)
    {
        this.socket = socket;
        this.timeouts = timeouts;
        stream = new NetworkStream(socket, ownsSocket: false);
    }

    public IPEndPoint RemoteEndPoint => (IPEndPoint)socket.RemoteEndPoint!;
    /// <summary>Our end of the connection (TLS reports name it as the sending MTA's address).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)socket.LocalEndPoint!;
    public SmtpCapabilities Capabilities { get; private set; } = SmtpCapabilities.None;
    public TlsSessionInfo? Tls { get; private set; }

    /// <summary>The reply to the MAIL command of the last <see cref="EnvelopeAsync"/>, as soon as it was read: when a
    /// later RCPT reply breaks the session, the caller still knows whether a mail transaction had begun.</summary>
    public ServerReply? MailReply { get; private set; }

    /// <summary>
    /// Nothing has come from the peer since its last reply: no octets of ours unread, and the socket neither readable nor
    /// closed (a 421, a FIN or a reset would make it readable). What a parked session is checked with before it carries
    /// mail again, instead of a round trip; a peer that closes just after this check is seen at the next reply.
    /// </summary>
    public bool PeerSilent
    {
        get
        {
            if (start < end) return false;
            try { return !socket.Poll(0, SelectMode.SelectRead); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { return false; }
        }
    }

    public static async Task<SmtpClientSession> ConnectAsync(IPEndPoint endpoint, SmtpClientTimeouts timeouts, CancellationToken cancellationToken)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var deadline = Deadline(timeouts.Connect, cancellationToken);
            await socket.ConnectAsync(endpoint, deadline.Token).ConfigureAwait(false);
            return new SmtpClientSession(socket, timeouts);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new SmtpClientException(ClientStage.Connect, ClientFailureKind.Timeout, $"connect to {endpoint} timed out");
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new SmtpClientException(ClientStage.Connect, ClientFailureKind.Network, $"connect to {endpoint}: {e.SocketErrorCode}", e);
        }
    }

    public Task<ServerReply> ReadGreetingAsync(CancellationToken cancellationToken) =>
        ReadReplyAsync(ClientStage.Greeting, timeouts.Greeting, cancellationToken);

    /// <summary>EHLO, and HELO when the server rejects EHLO with a 5xx (RFC 5321 §3.2). Sets <see cref="Capabilities"/>.</summary>
    public async Task<ServerReply> EhloAsync(string hostname, CancellationToken cancellationToken)
    {
        Capabilities = SmtpCapabilities.None;
        var reply = await CommandAsync(ClientStage.Ehlo, $"EHLO {hostname}", timeouts.Command, cancellationToken).ConfigureAwait(false);
        if (reply.Code == 250)
        {
            Capabilities = SmtpCapabilities.FromEhlo(reply);
            return reply;
        }
        if (!reply.IsPermanent) return reply;
        return await CommandAsync(ClientStage.Ehlo, $"HELO {hostname}", timeouts.Command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// STARTTLS and the handshake. Returns the server's refusal when it does not answer 220; throws when
    /// the handshake fails, the judge rejects the certificate, or the server injected bytes after its 220
    /// (RFC 3207 §4.2 / CVE-2011-0411 class: anything buffered before TLS must not be read as if after it).
    /// On success the capabilities are cleared: the caller must EHLO again and trust only the new answer.
    /// </summary>
    public async Task<ServerReply?> StartTlsAsync(TlsClientSettings settings, CancellationToken cancellationToken)
    {
        if (Tls is not null) throw new InvalidOperationException("TLS already active");
        var reply = await CommandAsync(ClientStage.StartTls, "STARTTLS", timeouts.Command, cancellationToken).ConfigureAwait(false);
        if (reply.Code != 220) return reply;
        // A TLS server speaks only after our ClientHello, so anything already buffered or waiting in the
        // socket now was sent in plaintext after the 220: injected, whoever sent it.
        var waiting = end - start + socket.Available;
        if (waiting > 0)
            throw new SmtpClientException(ClientStage.StartTls, ClientFailureKind.Protocol,
                $"response injection: {waiting} octet(s) after the 220 to STARTTLS, before the TLS handshake");

        Capabilities = SmtpCapabilities.None;
        TlsPeerEvidence? evidence = null;
        TlsJudgement? judgement = null;
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            // An IP literal or no name: send no SNI (RFC 6066 §3 forbids literal addresses there).
            TargetHost = settings.ServerName is { Length: > 0 } name && !IPAddress.TryParse(name, out _) ? name : "",
            EnabledSslProtocols = settings.Authenticated ? SslProtocols.Tls12 | SslProtocols.Tls13 : WidestProtocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            // Every session's certificate goes through the judge: a resumed session could skip it, and the
            // plan (DANE, pins) may differ from the one under which the session was first established.
            AllowTlsResume = false,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                evidence = Evidence(certificate, chain, errors);
                judgement = settings.Judge(evidence);
                return judgement.Accept;
            },
        };
        try
        {
            using var deadline = Deadline(timeouts.TlsHandshake, cancellationToken);
            await ssl.AuthenticateAsClientAsync(options, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException(cancellationToken);
            if (judgement is { Accept: false })
                throw new SmtpClientException(ClientStage.Tls, ClientFailureKind.CertificateRejected,
                    $"certificate rejected: {judgement.Reason ?? "no reason given"}", e);
            // Say which step ran out of time: "tls: timed out" left the operator guessing (a peer that answers STARTTLS and goes silent).
            var what = e is OperationCanceledException ? $"handshake timed out after {timeouts.TlsHandshake.TotalSeconds:0.#} s" : Innermost(e);
            throw new SmtpClientException(ClientStage.Tls, ClientFailureKind.TlsHandshake, what, e);
        }
        stream = ssl;
        start = end = 0;
        var leaf = ssl.RemoteCertificate is { } rc ? rc as X509Certificate2 ?? new X509Certificate2(rc) : null;
        Tls = new TlsSessionInfo(
            TlsSessionInfo.VersionName(ssl.SslProtocol),
            ssl.NegotiatedCipherSuite.ToString(),
            leaf is null ? null : TlsSessionInfo.SpkiFingerprint(leaf),
            leaf?.Subject,
            evidence is null ? null : string.Join("\n", evidence.Presented.Select(c => c.Subject)),
            evidence);
        return null;
    }

    /// <summary>
    /// MAIL FROM and every RCPT TO; pipelined in one write when the server offered PIPELINING (RFC 2920), and then with
    /// DATA at the end of the same group when <paramref name="withData"/> (§3.1: DATA may end a group), which saves the
    /// round trip to the 354. Returns the MAIL reply, one reply per recipient (empty when MAIL failed without pipelining)
    /// and the reply to DATA (null when DATA was not sent). After a 354 the caller must send the body
    /// (<see cref="SendBodyAsync"/>) or, when no recipient was accepted, end the data at once (<see cref="EndEmptyDataAsync"/>).
    /// </summary>
    public async Task<(ServerReply Mail, IReadOnlyList<ServerReply> Recipients, ServerReply? Data)> EnvelopeAsync(
        string mailCommand, IReadOnlyList<string> rcptCommands, CancellationToken cancellationToken, bool withData = false)
    {
        MailReply = null;
        if (Capabilities.Pipelining)
        {
            var batch = new StringBuilder();
            batch.Append(CheckLine(mailCommand)).Append("\r\n");
            foreach (var rcpt in rcptCommands) batch.Append(CheckLine(rcpt)).Append("\r\n");
            if (withData) batch.Append("DATA\r\n");
            await WriteAsync(ClientStage.Mail, Encoding.UTF8.GetBytes(batch.ToString()), timeouts.Command, cancellationToken).ConfigureAwait(false);
            var mail = MailReply = await ReadReplyAsync(ClientStage.Mail, timeouts.Command, cancellationToken).ConfigureAwait(false);
            var replies = new List<ServerReply>(rcptCommands.Count);
            foreach (var _ in rcptCommands)
                replies.Add(await ReadReplyAsync(ClientStage.Rcpt, timeouts.Command, cancellationToken).ConfigureAwait(false));
            var data = withData ? await ReadReplyAsync(ClientStage.Data, timeouts.Command, cancellationToken).ConfigureAwait(false) : null;
            return (mail, replies, data);
        }
        var mailReply = MailReply = await CommandAsync(ClientStage.Mail, mailCommand, timeouts.Command, cancellationToken).ConfigureAwait(false);
        if (!mailReply.IsPositive) return (mailReply, [], null);
        var results = new List<ServerReply>(rcptCommands.Count);
        foreach (var rcpt in rcptCommands)
            results.Add(await CommandAsync(ClientStage.Rcpt, rcpt, timeouts.Command, cancellationToken).ConfigureAwait(false));
        return (mailReply, results, null);
    }

    /// <summary>DATA, then the encoded body (see <see cref="DataEncoder"/>). Returns the reply and the stage it belongs to.</summary>
    public async Task<(ServerReply Reply, ClientStage Stage)> DataAsync(byte[] encodedBody, CancellationToken cancellationToken)
    {
        var reply = await CommandAsync(ClientStage.Data, "DATA", timeouts.Command, cancellationToken).ConfigureAwait(false);
        if (reply.Code != 354) return (reply, ClientStage.Data);
        return (await SendBodyAsync(encodedBody, cancellationToken).ConfigureAwait(false), ClientStage.Dot);
    }

    /// <summary>After a 354: the encoded body (it ends with the dot line), then the reply to the end of data.</summary>
    public async Task<ServerReply> SendBodyAsync(byte[] encodedBody, CancellationToken cancellationToken)
    {
        // RFC 5321 §4.5.3.2.5: the deadline is per data block, so a large message on a slow link is not cut short.
        for (var offset = 0; offset < encodedBody.Length; offset += DataBlockSize)
            await WriteAsync(ClientStage.Dot, encodedBody.AsMemory(offset, Math.Min(DataBlockSize, encodedBody.Length - offset)),
                timeouts.DataBlock, cancellationToken, $"message data ({offset} of {encodedBody.Length} octets sent; the peer stopped reading)").ConfigureAwait(false);
        return await ReadReplyAsync(ClientStage.Dot, timeouts.Dot, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A 354 to a pipelined DATA after every recipient was refused (a server should refuse DATA then, and some do not):
    /// RFC 2920 §3.1 has the client end the data at once with a lone dot, so nothing is sent for nobody.
    /// </summary>
    public Task<ServerReply> EndEmptyDataAsync(CancellationToken cancellationToken) =>
        CommandAsync(ClientStage.Dot, ".", timeouts.Dot, cancellationToken);

    public Task<ServerReply> RsetAsync(CancellationToken cancellationToken) =>
        CommandAsync(ClientStage.Mail, "RSET", timeouts.Command, cancellationToken);

    /// <summary>QUIT, best effort: a peer that hangs up first has done nothing wrong.</summary>
    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        try { await CommandAsync(ClientStage.Quit, "QUIT", TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false); }
        catch (SmtpClientException) { }
    }

    public async Task<ServerReply> CommandAsync(ClientStage stage, string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await WriteAsync(stage, Encoding.UTF8.GetBytes(CheckLine(command) + "\r\n"), timeout, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(stage, timeout, cancellationToken).ConfigureAwait(false);
    }

    private const int DataBlockSize = 64 * 1024;

    /// <param name="what">what is being sent, for the timeout's reason (default: the stage's command)</param>
    private async Task WriteAsync(ClientStage stage, ReadOnlyMemory<byte> bytes, TimeSpan timeout, CancellationToken cancellationToken, string? what = null)
    {
        try
        {
            using var deadline = Deadline(timeout, cancellationToken);
            await stream.WriteAsync(bytes, deadline.Token).ConfigureAwait(false);
            await stream.FlushAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SmtpClientException(stage, ClientFailureKind.Timeout,
                $"timed out after {timeout.TotalSeconds:0.#} s sending {what ?? $"at stage {stage.ToWire()}"}");
        }
        catch (IOException e)
        {
            throw new SmtpClientException(stage, ClientFailureKind.Network, $"connection lost while sending: {Innermost(e)}", e);
        }
    }

    private async Task<ServerReply> ReadReplyAsync(ClientStage stage, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = Deadline(timeout, cancellationToken);
        while (true)
        {
            var result = ReplyParser.Parse(buffer.AsSpan(start, end - start));
            switch (result.Status)
            {
                case ReplyParseStatus.Complete:
                    start += result.Consumed;
                    if (start == end) start = end = 0;
                    return result.Reply!;
                case ReplyParseStatus.ProtocolError:
                    throw new SmtpClientException(stage, ClientFailureKind.Protocol, result.Error!);
            }
            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buffer.Length)
                throw new SmtpClientException(stage, ClientFailureKind.Protocol, "reply too long");
            int read;
            try
            {
                read = await stream.ReadAsync(buffer.AsMemory(end), deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new SmtpClientException(stage, ClientFailureKind.Timeout, $"no reply within {timeout.TotalSeconds:0.#} s at stage {stage.ToWire()}");
            }
            catch (IOException e)
            {
                throw new SmtpClientException(stage, ClientFailureKind.Network, $"connection lost: {Innermost(e)}", e);
            }
            if (read == 0)
                throw new SmtpClientException(stage, ClientFailureKind.Network, "connection closed by peer");
            end += read;
        }
    }

    /// <summary>Commands carry addresses from the queue: a CR or LF inside one would be command injection.</summary>
    private static string CheckLine(string command) =>
        command.AsSpan().IndexOfAny('\r', '\n') >= 0 ? throw new ArgumentException("CR or LF inside an SMTP command", nameof(command)) : command;

    private static TlsPeerEvidence Evidence(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var leaf = certificate is null ? null : certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        // The leaf first, then what else the peer sent (ExtraStore; not the platform-built chain, which may
        // have pulled in local roots the peer never presented).
        var presented = new List<X509Certificate2>();
        if (leaf is not null) presented.Add(leaf);
        foreach (var extra in chain?.ChainPolicy.ExtraStore ?? [])
            if (leaf is null || !extra.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)) presented.Add(extra);
        var statuses = chain?.ChainStatus.Select(s => s.Status.ToString()).Distinct().ToList() ?? [];
        var summary = errors == SslPolicyErrors.None ? "ok" : $"{errors}{(statuses.Count > 0 ? ": " + string.Join(", ", statuses) : "")}";
        return new TlsPeerEvidence(leaf, presented, errors, summary);
    }

#pragma warning disable SYSLIB0039 // RFC 7435 §3: opportunistic TLS takes any version the platform still allows
    private const SslProtocols WidestProtocols = SslProtocols.Tls | SslProtocols.Tls11 | SslProtocols.Tls12 | SslProtocols.Tls13;
#pragma warning restore SYSLIB0039

    private static string Innermost(Exception e)
    {
        var messages = new List<string>();
        // .NET repeats the socket error in the wrapping IOException ("Unable to read data …: Connection reset by peer."): say it once.
        for (var x = e; x is not null; x = x.InnerException)
            if (x.Message.Trim().TrimEnd('.') is { Length: > 0 } m && !messages.Any(known => known.Contains(m, StringComparison.Ordinal))) messages.Add(m);
        return messages.Count == 0 ? e.GetType().Name : string.Join(": ", messages);
    }

    private static CancellationTokenSource Deadline(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(timeout);
        return source;
    }

    public async ValueTask DisposeAsync()
    {
        try { await stream.DisposeAsync().ConfigureAwait(false); } catch (IOException) { }
        socket.Dispose();
    }
}
