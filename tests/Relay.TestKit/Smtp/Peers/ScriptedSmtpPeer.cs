using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Relay.TestKit.Smtp.Peers;

/// <summary>
/// A raw SMTP server on a loopback address and port for client tests, scripted to misbehave on
/// purpose: 5xx greetings, no STARTTLS, bytes injected after the 220 to STARTTLS, a broken handshake,
/// per-recipient replies, 4xx at end of data, hanging up at the dot. It records every accepted
/// transaction with the exact bytes that arrived after 354. Every read has a deadline.
/// </summary>
public sealed class ScriptedSmtpPeer : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);
    private readonly TcpListener listener;
    private readonly CancellationTokenSource stop = new();
    private readonly Task acceptLoop;
    private readonly ConcurrentQueue<ReceivedMessage> messages = new();
    private readonly ConcurrentQueue<string> transcript = new();
    private readonly ConcurrentQueue<string> arrivals = new();
    private readonly Lazy<System.Security.Cryptography.X509Certificates.X509Certificate2> certificate;
    private int connections;
    private int dataPhases;

    private ScriptedSmtpPeer(TcpListener listener, PeerScript script)
    {
        this.listener = listener;
        Script = script;
        certificate = new(() => script.Certificate ?? PeerCertificates.SelfSigned(script.Name));
        acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public PeerScript Script { get; }
    public IPEndPoint EndPoint => (IPEndPoint)listener.LocalEndpoint;
    /// <summary>"[address]:port": the form of Relay:Routes values.</summary>
    public string Route => $"[{EndPoint.Address}]:{EndPoint.Port}";
    public IReadOnlyList<ReceivedMessage> Messages => messages.ToArray();
    public int Connections => Volatile.Read(ref connections);
    public IReadOnlyList<string> Transcript => transcript.ToArray();
    /// <summary>Each command's verb in arrival order, with "+" when more of the client's bytes had already arrived behind
    /// it: "MAIL+", "RCPT+", "DATA" is a pipelined group that ended with DATA (RFC 2920).</summary>
    public IReadOnlyList<string> Arrivals => arrivals.ToArray();
    public System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate => certificate.Value;

    /// <summary>Listens on <paramref name="address"/> (default 127.0.0.1) and <paramref name="port"/> (default: any free port).</summary>
    public static ScriptedSmtpPeer Start(PeerScript script, IPAddress? address = null, int port = 0)
    {
        var listener = new TcpListener(address ?? IPAddress.Loopback, port);
        listener.Start(64);
        return new ScriptedSmtpPeer(listener, script);
    }

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await listener.AcceptSocketAsync(stop.Token); }
            catch (Exception) { return; }
            var number = Interlocked.Increment(ref connections);
            _ = Task.Run(async () =>
            {
                using (socket)
                {
                    try { await ServeAsync(socket, number); }
                    catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or AuthenticationException
                                                  or ObjectDisposedException)
                    {
                        transcript.Enqueue($"#{number} ended: {e.GetType().Name}: {e.Message}");
                    }
                }
            });
        }
    }

    private async Task ServeAsync(Socket socket, int number)
    {
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        var reader = new LineReader(stream);
        var tls = false;
        string? tlsProtocol = null;
        string? mailFrom = null;
        var recipients = new List<string>();
        var mails = 0; // MAIL commands on this connection (Script.DropAtMail)

        async Task Send(string text)
        {
            transcript.Enqueue($"#{number} S: {text}");
            var bytes = Encoding.ASCII.GetBytes(text + "\r\n");
            await stream.WriteAsync(bytes, stop.Token);
            await stream.FlushAsync(stop.Token);
        }

        if (Script.SilentGreeting)
        {
            await reader.ReadLineAsync(stop.Token); // until the client gives up (or the read deadline passes)
            return;
        }
        await Send(Script.Greeting);
        var refusedGreeting = !Script.Greeting.StartsWith("220", StringComparison.Ordinal);
        while (true)
        {
            var lineBytes = await reader.ReadLineAsync(stop.Token);
            if (lineBytes is null) return;
            var line = Encoding.UTF8.GetString(lineBytes).TrimEnd('\r', '\n');
            transcript.Enqueue($"#{number} C: {line}");
            arrivals.Enqueue(line.Split(' ')[0].ToUpperInvariant() + (reader.HasBuffered ? "+" : ""));
            var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
            if (verb == "QUIT") { await Send("221 2.0.0 bye"); return; }
            if (refusedGreeting) { await Send("503 5.5.1 no service here"); continue; }
            switch (verb)
            {
                case "EHLO" when Script.AcceptEhlo:
                    var ehlo = new List<string> { Script.Name };
                    if (Script.Pipelining) ehlo.Add("PIPELINING");
                    if (Script.EightBitMime) ehlo.Add("8BITMIME");
                    if (Script.Size is { } size) ehlo.Add($"SIZE {size}");
                    if (Script.OfferStartTls && !tls) ehlo.Add("STARTTLS");
                    if (Script.OfferRequireTls && tls) ehlo.Add("REQUIRETLS");
                    ehlo.Add("ENHANCEDSTATUSCODES");
                    for (var i = 0; i < ehlo.Count; i++)
                        await Send($"250{(i == ehlo.Count - 1 ? ' ' : '-')}{ehlo[i]}");
                    break;
                case "EHLO":
                    await Send("502 5.5.2 EHLO not implemented");
                    break;
                case "HELO":
                    await Send($"250 {Script.Name}");
                    break;
                case "STAR" when Script.OfferStartTls && !tls:
                    if (!Script.StartTlsReply.StartsWith('2'))
                    {
                        await Send(Script.StartTlsReply);
                        break;
                    }
                    if (Script.InjectAfterStartTls is { } injected)
                    {
                        // One write: the injected bytes arrive with the 220, as a man in the middle would send them.
                        transcript.Enqueue($"#{number} S: {Script.StartTlsReply} + injected");
                        await stream.WriteAsync(Encoding.ASCII.GetBytes(Script.StartTlsReply + "\r\n" + injected), stop.Token);
                        await stream.FlushAsync(stop.Token);
                    }
                    else await Send(Script.StartTlsReply);
                    if (Script.BreakHandshake)
                    {
                        // Wait for the ClientHello so the garbage is a handshake failure, not bytes injected before it.
                        var hello = new byte[1];
                        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
                        {
                            wait.CancelAfter(ReadTimeout);
                            await stream.ReadAtLeastAsync(hello, 1, throwOnEndOfStream: false, wait.Token);
                        }
                        await stream.WriteAsync("this is not a TLS server hello\r\n"u8.ToArray(), stop.Token);
                        await stream.FlushAsync(stop.Token);
                        return;
                    }
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
                    {
                        handshake.CancelAfter(ReadTimeout);
                        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                        {
                            ServerCertificateContext = SslStreamCertificateContext.Create(certificate.Value, Script.Chain, offline: true),
                        },
                            handshake.Token);
                    }
                    stream = ssl;
                    reader = new LineReader(stream); // nothing read before the handshake survives it
                    tls = true;
                    tlsProtocol = ssl.SslProtocol.ToString();
                    mailFrom = null;
                    recipients.Clear();
                    break;
                case "MAIL":
                    if (Script.DropAtMail?.Invoke(++mails) == true) return;
                    await Send(Script.MailReply);
                    if (Script.MailReply.StartsWith('2')) { mailFrom = Between(line, '<', '>'); recipients.Clear(); }
                    break;
                case "RCPT":
                    var address = Between(line, '<', '>');
                    var reply = Script.RcptReply?.Invoke(address) ?? "250 2.1.5 ok";
                    await Send(mailFrom is null ? "503 5.5.1 MAIL first" : reply);
                    if (mailFrom is not null && reply.StartsWith('2')) recipients.Add(address);
                    break;
                case "DATA":
                    var noTransaction = mailFrom is null || recipients.Count == 0;
                    var dataCommandReply = Script.DataCommandReply ?? (noTransaction ? "554 5.5.1 no valid recipients" : "354 go ahead");
                    await Send(dataCommandReply);
                    if (!dataCommandReply.StartsWith("354", StringComparison.Ordinal)) break;
                    var data = new MemoryStream();
                    while (true)
                    {
                        var dataLine = await reader.ReadLineAsync(stop.Token) ?? throw new IOException("client hung up in DATA");
                        data.Write(dataLine);
                        if (dataLine.AsSpan().SequenceEqual(".\r\n"u8)) break;
                    }
                    if (mailFrom is null || recipients.Count == 0)
                    {
                        // A 354 given against the rules (no valid recipient): whatever came is for nobody.
                        transcript.Enqueue($"#{number} C: <{data.Length} octets of data with no transaction>");
                        await Send("554 5.5.1 no valid recipients");
                        break;
                    }
                    if (Script.DropAtDot) return;
                    var phase = Interlocked.Increment(ref dataPhases);
                    var final = Script.DataReply?.Invoke(phase) ?? "250 2.0.0 queued";
                    if (final.StartsWith('2'))
                        messages.Enqueue(new ReceivedMessage(number, mailFrom, recipients.ToList(), data.ToArray(), tls, tlsProtocol));
                    await Send(final);
                    mailFrom = null;
                    recipients.Clear();
                    break;
                case "RSET":
                    mailFrom = null;
                    recipients.Clear();
                    await Send("250 2.0.0 reset");
                    break;
                case "NOOP":
                    await Send("250 2.0.0 ok");
                    break;
                default:
                    await Send("500 5.5.2 command not recognised");
                    break;
            }
        }
    }

    private static string Between(string line, char open, char close)
    {
        var a = line.IndexOf(open);
        var b = line.IndexOf(close, Math.Max(a, 0));
        return a >= 0 && b > a ? line[(a + 1)..b] : "";
    }

    /// <summary>Reads LF-terminated lines (bytes kept verbatim, CR included), with a deadline per line.</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly byte[] buffer = new byte[64 * 1024];
        private int start;
        private int end;

        /// <summary>Bytes already read past the last line returned.</summary>
        public bool HasBuffered => end > start;

        public async Task<byte[]?> ReadLineAsync(CancellationToken cancellationToken)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(ReadTimeout);
            while (true)
            {
                var lf = Array.IndexOf(buffer, (byte)'\n', start, end - start);
                if (lf >= 0)
                {
                    var line = buffer[start..(lf + 1)];
                    start = lf + 1;
                    return line;
                }
                if (start > 0) { Buffer.BlockCopy(buffer, start, buffer, 0, end - start); end -= start; start = 0; }
                if (end == buffer.Length) throw new IOException("line too long");
                var read = await stream.ReadAsync(buffer.AsMemory(end), deadline.Token);
                if (read == 0) return null;
                end += read;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        try { await acceptLoop; } catch (Exception) { }
        stop.Dispose();
    }
}
