using System.Buffers;
using System.Net.Sockets;
using Relay.Smtp.Protocol;

namespace Relay.Inbound;

/// <summary>Raised when a read or write misses its deadline; the session answers 421 4.4.2.</summary>
public sealed class SmtpTimeoutException : Exception
{
    public SmtpTimeoutException() : base("SMTP peer timed out") { }
}

/// <summary>
/// The byte side of a session: one stream (plain, later TLS), an input buffer the session parses in
/// place, and reads and writes with deadlines. Knows nothing of SMTP beyond writing replies.
/// </summary>
public sealed class SmtpConnection(Socket socket, Stream stream) : IAsyncDisposable
{
    // 8 KiB holds a command line and most small messages whole; it grows when a caller needs more. Each held session
    // keeps its buffer, so its size is most of what an idle session costs (bench/README.md, idle sessions). Rented, not
    // allocated: a new 8 KiB array per connection was the largest single allocation of a one-message session.
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(8 * 1024);
    private int _start;
    private int _end;

    public Socket Socket { get; } = socket;
    public Stream Stream { get; private set; } = stream;

    public ReadOnlySpan<byte> Buffered => _buffer.AsSpan(_start, _end - _start);
    public int BufferedCount => _end - _start;

    /// <summary>Bytes waiting: in our buffer, or already in the kernel's (for "did the client talk too early").</summary>
    public bool HasPendingInput => BufferedCount > 0 || (Socket.Connected && Socket.Available > 0);

    public void Consume(int count) { _start += count; if (_start == _end) _start = _end = 0; }

    /// <summary>Drops buffered input: after STARTTLS nothing read in plaintext may be used.</summary>
    public void DiscardBuffered() => _start = _end = 0;

    public void ReplaceStream(Stream stream) => Stream = stream;

    /// <summary>Reads more input; false at end of stream. Throws <see cref="SmtpTimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task<bool> ReadMoreAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_start > 0 && _start == _end) _start = _end = 0;
        if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else Grow(); // callers cap what they leave buffered
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        int read;
        try { read = await Stream.ReadAsync(_buffer.AsMemory(_end), deadline.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { throw new SmtpTimeoutException(); }
        if (read == 0) return false;
        _end += read;
        return true;
    }

    private void Grow()
    {
        var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
        _buffer.AsSpan(0, _end).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    public async Task WriteAsync(SmtpReply reply, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await Stream.WriteAsync(reply.ToBytes(), deadline.Token).ConfigureAwait(false);
            await Stream.FlushAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { throw new SmtpTimeoutException(); }
    }

    public async ValueTask DisposeAsync()
    {
        try { await Stream.DisposeAsync().ConfigureAwait(false); } catch (IOException) { } catch (ObjectDisposedException) { }
        Socket.Dispose();
        // The session is over (the listener disposes after it returned): nothing reads the buffer any more.
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
