namespace Relay.Smtp.Protocol;

/// <summary>
/// RFC 5321 §4.5.2 transparency for the sending side: a line that starts with '.' gets one more.
/// Input must already be CRLF lines (the queue stores nothing else); the terminating
/// <c>.CRLF</c> is appended, with a CRLF first when the body does not end with one.
/// </summary>
public static class DotStuffing
{
    public static byte[] Stuff(ReadOnlySpan<byte> body)
    {
        var output = new List<byte>(body.Length + 64);
        var lineStart = true;
        foreach (var b in body)
        {
            if (lineStart && b == (byte)'.') output.Add((byte)'.');
            output.Add(b);
            lineStart = b == (byte)'\n';
        }
        if (body.Length > 0 && !body.EndsWith("\r\n"u8)) output.AddRange("\r\n"u8.ToArray());
        output.AddRange(".\r\n"u8.ToArray());
        return output.ToArray();
    }
}
