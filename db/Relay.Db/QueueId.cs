using System.Security.Cryptography;

namespace Relay.Db;

/// <summary>
/// Public queue ids: 48 bits of milliseconds then 32 random bits in Crockford base32, so ids sort by
/// arrival, never repeat in practice and contain no characters that need quoting in logs or URLs.
/// </summary>
public static class QueueId
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string New(DateTimeOffset now)
    {
        Span<byte> bytes = stackalloc byte[10];
        var millis = (ulong)now.ToUnixTimeMilliseconds();
        for (var i = 0; i < 6; i++)
            bytes[i] = (byte)(millis >> (8 * (5 - i)));
        RandomNumberGenerator.Fill(bytes[6..]);
        Span<char> text = stackalloc char[16];
        ulong high = 0;
        for (var i = 0; i < 5; i++) high = (high << 8) | bytes[i];
        ulong low = 0;
        for (var i = 5; i < 10; i++) low = (low << 8) | bytes[i];
        for (var i = 7; i >= 0; i--) { text[i] = Alphabet[(int)(high & 31)]; high >>= 5; }
        for (var i = 15; i >= 8; i--) { text[i] = Alphabet[(int)(low & 31)]; low >>= 5; }
        return new string(text);
    }

    public static bool IsWellFormed(string? id) =>
        id is { Length: 16 } && id.All(c => Alphabet.Contains(c));
}
