namespace Relay.Smtp.Client;

public enum ReplyParseStatus { NeedMoreData, Complete, ProtocolError }

/// <summary>A parse result: need more bytes, a reply (and how many bytes it used), or a protocol error.</summary>
public readonly record struct ReplyParseResult(ReplyParseStatus Status, ServerReply? Reply, int Consumed, string? Error)
{
    public static ReplyParseResult NeedMore { get; } = new(ReplyParseStatus.NeedMoreData, null, 0, null);
    internal static ReplyParseResult Fail(string error) => new(ReplyParseStatus.ProtocolError, null, 0, error);
}

/// <summary>
/// Parses one (possibly multi-line) server reply from the start of a buffer. No I/O: the caller keeps
/// the bytes and calls again after reading more. Every input gets an answer; a server that sends lines
/// without codes, changes code between continuation lines, or never ends a line is a protocol error,
/// never an exception or unbounded buffering. Bare LF is accepted as a line end: it is the server's
/// sloppiness and costs us nothing on the read side.
/// </summary>
public static class ReplyParser
{
    /// <summary>RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; real servers exceed it, so allow 4x.</summary>
    public const int MaxLineLength = 2048;
    public const int MaxLines = 100;
    public const int MaxReplyBytes = 64 * 1024;

    public static ReplyParseResult Parse(ReadOnlySpan<byte> input)
    {
        var position = 0;
        var code = -1;
        var lines = new List<string>();
        while (true)
        {
            var rest = input[position..];
            var lf = rest.IndexOf((byte)'\n');
            if (lf < 0)
                return rest.Length > MaxLineLength ? ReplyParseResult.Fail($"reply line longer than {MaxLineLength} octets") : ReplyParseResult.NeedMore;
            if (lf > MaxLineLength)
                return ReplyParseResult.Fail($"reply line longer than {MaxLineLength} octets");
            var line = rest[..lf];
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            position += lf + 1;
            if (position > MaxReplyBytes)
                return ReplyParseResult.Fail($"reply longer than {MaxReplyBytes} octets");

            if (line.Length < 3 || !IsDigit(line[0]) || !IsDigit(line[1]) || !IsDigit(line[2]))
                return ReplyParseResult.Fail("reply line without a three-digit code");
            var lineCode = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            if (lineCode is < 200 or > 599)
                return ReplyParseResult.Fail($"reply code {lineCode} outside 2yz-5yz");
            if (code >= 0 && lineCode != code)
                return ReplyParseResult.Fail($"continuation line with code {lineCode} inside a {code} reply");
            code = lineCode;

            bool last;
            if (line.Length == 3) last = true;
            else if (line[3] == (byte)' ') last = true;
            else if (line[3] == (byte)'-') last = false;
            else return ReplyParseResult.Fail("reply code not followed by space or hyphen");

            lines.Add(line.Length > 4 ? ServerReply.Printable(line[4..]) : "");
            if (lines.Count > MaxLines)
                return ReplyParseResult.Fail($"reply with more than {MaxLines} lines");
            if (last)
                return new ReplyParseResult(ReplyParseStatus.Complete, new ServerReply(code, lines), position, null);
        }
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';
}
