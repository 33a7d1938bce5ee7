namespace Relay.Smtp.Server;

/// <summary>Looks at the header section of stored content (CRLF lines) without parsing MIME.</summary>
public static class HeaderScanner
{
    /// <summary>Number of <c>Received:</c> fields before the first empty line: the hop count of RFC 5321 §6.3.</summary>
    public static int CountReceived(ReadOnlySpan<byte> body)
    {
        var count = 0;
        var position = 0;
        while (position < body.Length)
        {
            var rest = body[position..];
            var end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            if (line.Length == 0) break;
            if (line.Length >= 9 && System.Text.Ascii.EqualsIgnoreCase(line[..9], "Received:"u8)) count++;
            if (end < 0) break;
            position += end + 2;
        }
        return count;
    }

    /// <summary>Octets of the header section: up to and including the CRLF that ends the last field (the whole content when no empty line follows).</summary>
    public static int HeaderLength(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith("\r\n"u8)) return 0;
        var end = body.IndexOf("\r\n\r\n"u8);
        return end < 0 ? body.Length : end + 2;
    }
}
