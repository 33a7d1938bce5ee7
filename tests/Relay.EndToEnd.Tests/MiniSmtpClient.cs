using System.Net.Sockets;
using System.Text;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// A deliberately plain SMTP client (no pipelining, no TLS) for end-to-end tests that need to know
/// exactly which message got which reply. Every read has a deadline.
/// </summary>
public sealed class MiniSmtpClient : IAsyncDisposable
{
    private readonly TcpClient tcp;
    private readonly NetworkStream stream;
    private readonly StreamReader reader;

    private MiniSmtpClient(TcpClient tcp)
    {
        this.tcp = tcp;
        stream = tcp.GetStream();
        reader = new StreamReader(stream, Encoding.ASCII);
    }

    public static async Task<MiniSmtpClient> ConnectAsync(string host, int port, TimeSpan timeout)
    {
        var tcp = new TcpClient();
        using var cts = new CancellationTokenSource(timeout);
        await tcp.ConnectAsync(host, port, cts.Token);
        var client = new MiniSmtpClient(tcp);
        var greeting = await client.ReadReplyAsync(timeout);
        if (!greeting.StartsWith("220", StringComparison.Ordinal))
            throw new IOException($"greeting: {greeting}");
        return client;
    }

    /// <summary>Sends one command line and returns the full (possibly multi-line) reply.</summary>
    public async Task<string> CommandAsync(string line, TimeSpan timeout)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
        return await ReadReplyAsync(timeout);
    }

    /// <summary>DATA, the body (dot-stuffed here), and the final dot; returns the reply to the final dot.</summary>
    public async Task<string> SendMessageAsync(string from, IEnumerable<string> to, string body, TimeSpan timeout)
    {
        Expect("250", await CommandAsync($"MAIL FROM:<{from}>", timeout));
        foreach (var rcpt in to)
            Expect("250", await CommandAsync($"RCPT TO:<{rcpt}>", timeout));
        Expect("354", await CommandAsync("DATA", timeout));
        var stuffed = string.Join("\r\n", body.Replace("\r\n", "\n").Split('\n').Select(l => l.StartsWith('.') ? "." + l : l));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(stuffed + "\r\n.\r\n"));
        return await ReadReplyAsync(timeout);
    }

    public async Task<string> ReadReplyAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var reply = new StringBuilder();
        for (var lines = 0; lines < 100; lines++)
        {
            var line = await reader.ReadLineAsync(cts.Token) ?? throw new IOException("connection closed");
            reply.AppendLine(line);
            if (line.Length < 4 || line[3] != '-')
                return reply.ToString().TrimEnd();
        }
        throw new IOException("reply longer than 100 lines");
    }

    private static void Expect(string code, string reply)
    {
        if (!reply.StartsWith(code, StringComparison.Ordinal))
            throw new IOException($"expected {code}, got: {reply}");
    }

    public ValueTask DisposeAsync()
    {
        tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
