using System.Buffers;

namespace Relay.Smtp.Server;

public enum BareLineEndingMode
{
    /// <summary>Store a bare CR or LF as CRLF (Postfix 3.9 <c>smtpd_forbid_bare_newline = normalize</c>); it never ends the data.</summary>
    Normalize,
    /// <summary>Read to the real end of data, then refuse the message with 550 5.5.2.</summary>
    Reject,
}

public enum DataError { None, TooBig, BareLineEnding, LineTooLong, NoMemory }

/// <param name="Reserve">
/// Asked for memory before the stored content grows past what was granted (in steps of at least
/// <see cref="DataReader.ReserveStep"/>); false marks the message <see cref="DataError.NoMemory"/> and nothing more is
/// stored. Lets a listener bound what all its sessions hold together. Null: no budget.
/// </param>
public sealed record DataReaderOptions(long MaxSize, BareLineEndingMode BareLineEndings = BareLineEndingMode.Normalize, int MaxLineLength = 1000,
    Func<long, bool>? Reserve = null);

/// <summary>
/// Reads message content with no I/O: DATA (dot-transparency, RFC 5321 §4.5.2) or BDAT chunks (RFC 3030,
/// no transparency). The only end of DATA is CRLF "." CRLF as raw octets, where the first CRLF may be the
/// one that ended the DATA command. Every other form of it (the SMTP smuggling sequences <c>\n.\n</c>,
/// <c>\n.\r\n</c>, <c>\r.\r</c>, <c>\r.\n</c>, <c>\r\n\0.\r\n</c>, …) is content.
///
/// What is stored is CRLF lines only: a bare CR or bare LF becomes CRLF (or, in <see cref="BareLineEndingMode.Reject"/>,
/// marks the message for refusal). Only a line that begins after a real CRLF is dot-unstuffed; a "line"
/// that begins after a bare line ending is kept verbatim, so it can never look like a terminator.
/// Limits are checked while reading but reported only after the end, so the session stays in sync:
/// more than <c>MaxSize</c> stored octets → <see cref="DataError.TooBig"/>; a line longer than
/// <c>MaxLineLength</c> octets including CRLF → <see cref="DataError.LineTooLong"/> (we refuse rather than
/// fold: folding would change signed content). BINARYMIME content is neither normalised nor line-checked.
/// What is buffered is bounded by <c>MaxSize</c> and, across sessions, by the optional reserve callback.
/// </summary>
public sealed class DataReader
{
    private enum State { LineStart, Text, Cr, LineStartDot, LineStartDotCr }

    private readonly DataReaderOptions _options;
    private readonly bool _dotTransparency;
    private readonly bool _binary;
    // Rented while the message is read and given back by Release: a message's content is copied once more when its
    // Received: field is prepended, and growing an array of its own here was most of what a session allocated.
    // Only buffers up to PooledLimit come from the pool: a large message's buffer kept in the shared pool afterwards would
    // be memory outside Relay:Smtp:DataMemoryLimit's count.
    private byte[] _body = [];
    private bool _pooled;
    private int _length;
    private bool _released;

    public const int PooledLimit = 1024 * 1024;
    private State _state = State.LineStart;
    private int _lineLength;

    public DataReader(DataReaderOptions options, bool dotTransparency, bool binary = false)
    {
        _options = options;
        _dotTransparency = dotTransparency;
        _binary = binary && !dotTransparency;
    }

    public const int ReserveStep = 64 * 1024;

    public DataError Error { get; private set; }

    /// <summary>Octets granted by <see cref="DataReaderOptions.Reserve"/> so far: the caller gives them back when done.</summary>
    public long Reserved { get; private set; }
    public long StoredOctets { get; private set; }
    public bool Ended { get; private set; }

    /// <summary>The stored content (empty when a limit was hit: nothing of a refused message is kept).</summary>
    public ReadOnlyMemory<byte> Body => Error == DataError.None ? _body.AsMemory(0, _length) : ReadOnlyMemory<byte>.Empty;

    /// <summary>Gives the buffer back to the pool: <see cref="Body"/> must not be used after this, and nothing more may be fed.</summary>
    public void Release()
    {
        var (body, pooled) = (_body, _pooled);
        (_body, _pooled, _length, _released) = ([], false, 0, true);
        if (pooled) ArrayPool<byte>.Shared.Return(body);
    }

    /// <summary>
    /// Consumes octets. Returns how many were consumed; in DATA mode, consumption stops right after the
    /// LF of the terminating CRLF.CRLF and <see cref="Ended"/> becomes true. The rest belongs to the next command.
    /// </summary>
    public int Feed(ReadOnlySpan<byte> input)
    {
        if (Ended) return 0;
        if (_binary)
        {
            Emit(input);
            return input.Length;
        }
        for (var i = 0; i < input.Length; i++)
        {
            var b = input[i];
            switch (_state)
            {
                case State.LineStartDot when _dotTransparency:
                    if (b == '\r') { _state = State.LineStartDotCr; continue; }
                    // Stuffed dot: drop it, the rest of the line is text.
                    _state = State.Text;
                    Text(b);
                    continue;
                case State.LineStartDotCr:
                    if (b == '\n') { Ended = true; return i + 1; }
                    // ".<CR>x": an unstuffed (empty) line ended by a bare CR, then more text.
                    Bare();
                    _state = State.Text;
                    Text(b);
                    continue;
                case State.Cr:
                    if (b == '\n') { EndLine(); _state = State.LineStart; continue; }
                    Bare();
                    _state = State.Text;
                    Text(b);
                    continue;
                case State.LineStart:
                    if (b == '.' && _dotTransparency) { _state = State.LineStartDot; _lineLength = 1; continue; }
                    _state = State.Text;
                    Text(b);
                    continue;
                default:
                    // Fast path: copy a run of ordinary octets at once; CR and LF go through the state machine.
                    var run = input[i..].IndexOfAny((byte)'\r', (byte)'\n');
                    if (run == 0) { Text(b); continue; }
                    if (run < 0) run = input.Length - i;
                    TextRun(input.Slice(i, run));
                    i += run - 1;
                    continue;
            }
        }
        return input.Length;
    }

    /// <summary>For BDAT LAST: a CR still waiting for its LF at the very end is a bare CR.</summary>
    public void Complete()
    {
        if (_state == State.Cr) { Bare(); _state = State.LineStart; }
        Ended = true;
    }

    private void Text(byte b)
    {
        if (b == '\r') { _state = State.Cr; return; }
        if (b == '\n') { Bare(); return; }
        _lineLength++;
        if (_options.MaxLineLength > 0 && _lineLength > _options.MaxLineLength - 2 && Error == DataError.None) Error = DataError.LineTooLong;
        Emit([b]);
    }

    private void TextRun(ReadOnlySpan<byte> run)
    {
        _lineLength += run.Length;
        if (_options.MaxLineLength > 0 && _lineLength > _options.MaxLineLength - 2 && Error == DataError.None) Error = DataError.LineTooLong;
        Emit(run);
    }

    private void EndLine()
    {
        _lineLength = 0;
        Emit("\r\n"u8);
    }

    // A bare CR or LF: stored as CRLF (never as an end of data), or the message is marked for refusal.
    private void Bare()
    {
        if (_options.BareLineEndings == BareLineEndingMode.Reject && Error == DataError.None) Error = DataError.BareLineEnding;
        _lineLength = 0;
        Emit("\r\n"u8);
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (_released) throw new InvalidOperationException("DataReader used after Release");
        StoredOctets += bytes.Length;
        if (Error != DataError.None) return;
        if (StoredOctets > _options.MaxSize) { Error = DataError.TooBig; return; }
        if (StoredOctets > Reserved && _options.Reserve is { } reserve)
        {
            var step = Math.Max(ReserveStep, StoredOctets - Reserved);
            if (!reserve(step)) { Error = DataError.NoMemory; return; }
            Reserved += step;
        }
        if (_length + bytes.Length > _body.Length)
        {
            var size = Math.Max(4096, 2L * (_length + bytes.Length));
            var pooled = size <= PooledLimit;
            var larger = pooled ? ArrayPool<byte>.Shared.Rent((int)size) : GC.AllocateUninitializedArray<byte>((int)Math.Min(size, Array.MaxLength));
            _body.AsSpan(0, _length).CopyTo(larger);
            if (_pooled) ArrayPool<byte>.Shared.Return(_body);
            (_body, _pooled) = (larger, pooled);
        }
        bytes.CopyTo(_body.AsSpan(_length));
        _length += bytes.Length;
    }
}
