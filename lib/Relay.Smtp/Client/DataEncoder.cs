using System.Buffers;

namespace Relay.Smtp.Client;

/// <summary>
/// Turns a stored message into the bytes sent after 354: every CR, LF and CRLF becomes one CRLF, lines
/// starting with '.' are dot-stuffed (RFC 5321 §4.5.2) and CRLF.CRLF ends it. Because no bare CR or LF
/// can survive, none of the SMTP smuggling sequences (\n.\n, \r.\r, \r\n.\r, …) can end the data early
/// at a receiver that is lenient about line ends: each becomes a stuffed "..", part of the body.
/// NUL is dropped: RFC 5322 forbids it in messages, and a receiver that discards NULs would read
/// "\r\n\0.\r\n" as the end of data.
/// </summary>
public static class DataEncoder
{
    public static byte[] Encode(ReadOnlySpan<byte> body)
    {
        var output = new ArrayBufferWriter<byte>(body.Length + body.Length / 32 + 8);
        var atLineStart = true;
        var i = 0;
        while (i < body.Length)
        {
            // Copied in runs up to the next CR, LF or NUL (a vectorised search), not octet by octet.
            if (atLineStart && body[i] == (byte)'.') output.Write("."u8); // the '.' itself starts the run below
            var rest = body[i..];
            var run = rest.IndexOfAny((byte)'\r', (byte)'\n', (byte)0);
            if (run < 0) run = rest.Length;
            if (run > 0)
            {
                output.Write(rest[..run]);
                atLineStart = false;
                i += run;
                continue;
            }
            if (body[i] == 0) { i++; continue; } // dropped; a line start stays one
            if (body[i] == (byte)'\r' && i + 1 < body.Length && body[i + 1] == (byte)'\n') i++;
            i++;
            output.Write("\r\n"u8);
            atLineStart = true;
        }
        if (!atLineStart) output.Write("\r\n"u8);
        output.Write(".\r\n"u8);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>True when some octet has the high bit set: such a body needs 8BITMIME at the peer.</summary>
    public static bool HasEightBit(ReadOnlySpan<byte> body) => body.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;
}
