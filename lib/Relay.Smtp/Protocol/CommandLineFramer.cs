namespace Relay.Smtp.Protocol;

public enum FrameKind { NeedMore, Line, TooLong }

/// <summary>What the framer made of the buffered input; <see cref="Consumed"/> octets may be dropped.</summary>
public readonly record struct Frame(FrameKind Kind, int Consumed, int LineLength)
{
    public static Frame NeedMore(int consumed) => new(FrameKind.NeedMore, consumed, 0);
}

/// <summary>
/// Cuts command lines out of a byte stream with no I/O. The limit counts the terminator (RFC 5321
/// §4.5.3.1.4: 512 octets including CRLF). Input is cut at the limit first and only then parsed: a
/// line with no LF within the limit is "too long"; its remainder is skipped up to the next LF and
/// answered once, so replies stay one per line and the session stays in sync.
/// A bare LF ends a command line (as Postfix does); the CR before it is not part of the line.
/// </summary>
public sealed class CommandLineFramer(int limit = 512)
{
    private bool _skipping;

    public int Limit { get; } = limit;

    public Frame Next(ReadOnlySpan<byte> buffer)
    {
        if (_skipping)
        {
            var lf = buffer.IndexOf((byte)'\n');
            if (lf < 0) return Frame.NeedMore(buffer.Length);
            _skipping = false;
            return new Frame(FrameKind.TooLong, lf + 1, 0);
        }
        var window = buffer.Length > Limit ? buffer[..Limit] : buffer;
        var end = window.IndexOf((byte)'\n');
        if (end >= 0)
        {
            var length = end > 0 && window[end - 1] == (byte)'\r' ? end - 1 : end;
            return new Frame(FrameKind.Line, end + 1, length);
        }
        if (buffer.Length < Limit) return Frame.NeedMore(0);
        // No LF within the limit: drop what we have and skip to the end of this line.
        _skipping = true;
        var rest = buffer[Limit..].IndexOf((byte)'\n');
        if (rest < 0) return Frame.NeedMore(buffer.Length);
        _skipping = false;
        return new Frame(FrameKind.TooLong, Limit + rest + 1, 0);
    }
}
