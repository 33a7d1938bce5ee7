using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Relay.TestKit.Smtp;

/// <summary>One SMTP reply as a client reads it: the code and the text lines (without code and separator).</summary>
public sealed record RawReply(int Code, IReadOnlyList<string> Lines)
{
    public string Text => string.Join("\n", Lines);
    public override string ToString() => $"{Code} {Text}";
}

/// <summary>
/// A deliberately dumb SMTP client for tests: sends exactly the bytes it is given (smuggling sequences,
/// pipelined groups, NULs) and reads replies with a deadline. Can switch to TLS on request.
/// </summary>
public sealed class RawSmtpClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private readonly List<byte> _pending = [];
    private readonly TimeSpan _timeout;

    private RawSmtpClient(TcpClient tcp, TimeSpan timeout)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _timeout = timeout;
    }

    public static async Task<RawSmtpClient> ConnectAsync(IPEndPoint endpoint, TimeSpan? timeout = null, IPAddress? localAddress = null)
    {
        var tcp = localAddress is null ? new TcpClient(endpoint.AddressFamily) : new TcpClient(new IPEndPoint(localAddress, 0));
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        await tcp.ConnectAsync(endpoint, cts.Token);
        return new RawSmtpClient(tcp, timeout ?? TimeSpan.FromSeconds(10));
    }

    public Stream Stream => _stream;

    public async Task SendAsync(string text) => await SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(_timeout);
        await _stream.WriteAsync(bytes, cts.Token);
        await _stream.FlushAsync(cts.Token);
    }

    /// <summary>Sends a line (CRLF appended) and reads one reply.</summary>
    public async Task<RawReply> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    public async Task<RawReply> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync() ?? throw new EndOfStreamException($"connection closed after [{string.Join(" | ", lines)}]");
            if (line.Length < 3 || !int.TryParse(line[..3], out var code)) throw new InvalidDataException($"not a reply line: {line}");
            lines.Add(line.Length > 4 ? line[4..] : "");
            if (line.Length == 3 || line[3] == ' ') return new RawReply(code, lines);
        }
    }

    /// <summary>True when the server closed the connection (read returns end of stream or a reset) within the timeout.</summary>
    public async Task<bool> IsClosedAsync()
    {
        try { return await ReadLineAsync() is null; }
        catch (IOException) { return true; }
    }

    public async Task<string?> ReadLineAsync()
    {
        using var cts = new CancellationTokenSource(_timeout);
        var buffer = new byte[1];
        while (true)
        {
            var lf = _pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = Encoding.UTF8.GetString(_pending.GetRange(0, lf).ToArray()).TrimEnd('\r');
                _pending.RemoveRange(0, lf + 1);
                return line;
            }
            var read = await _stream.ReadAsync(buffer, cts.Token);
            if (read == 0) return null;
            _pending.Add(buffer[0]);
        }
    }

    /// <summary>Starts TLS on the connection (after the server's 220 to STARTTLS); accepts any server certificate.</summary>
    public async Task<SslStream> StartTlsAsync(string targetHost = "localhost",
        System.Security.Authentication.SslProtocols protocols = System.Security.Authentication.SslProtocols.None)
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        using var cts = new CancellationTokenSource(_timeout);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = targetHost, EnabledSslProtocols = protocols }, cts.Token);
        _stream = ssl;
        return ssl;
    }

    public async ValueTask DisposeAsync()
    {
        try { await _stream.DisposeAsync(); } catch (IOException) { }
        _tcp.Dispose();
    }
}
