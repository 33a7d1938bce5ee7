using System.Globalization;
using Relay.Dns;

namespace Relay.Policy.Dane;

/// <summary>
/// One TLSA certificate association (RFC 6698 §2.1) detached from its owner name, so the verifier runs the
/// same on records from DNS and on "U S M HEX" typed at `relay dane verify`.
/// </summary>
public sealed record TlsaAssociation(byte Usage, byte Selector, byte MatchingType, byte[] Data)
{
    public const byte UsagePkixTa = 0, UsagePkixEe = 1, UsageDaneTa = 2, UsageDaneEe = 3;
    public const byte SelectorCert = 0, SelectorSpki = 1;
    public const byte MatchFull = 0, MatchSha256 = 1, MatchSha512 = 2;

    public static TlsaAssociation From(TlsaRecord record) => new(record.Usage, record.Selector, record.MatchingType, record.Data);

    /// <summary>Parses presentation "U S M HEX" (hex may contain spaces, as in zone files). No I/O.</summary>
    public static bool TryParse(string? text, out TlsaAssociation? association, out string? error)
    {
        association = null;
        error = null;
        var parts = (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 4)
        {
            error = $"TLSA '{text}': expected \"USAGE SELECTOR MATCHING-TYPE HEX\"";
            return false;
        }
        var numbers = new byte[3];
        string[] what = ["usage", "selector", "matching type"];
        for (var i = 0; i < 3; i++)
        {
            if (!byte.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                error = $"TLSA '{text}': {what[i]} '{parts[i]}' is not a number 0-255";
                return false;
            }
        }
        var hex = string.Concat(parts.Skip(3));
        byte[] data;
        try
        {
            data = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            error = $"TLSA '{text}': certificate association data '{hex}' is not hexadecimal";
            return false;
        }
        if (data.Length == 0)
        {
            error = $"TLSA '{text}': empty certificate association data";
            return false;
        }
        // A typed digest of the wrong length is a typo, not an unusable record: say so (RFC 6698 §2.1.3 lengths).
        var expected = numbers[2] switch { MatchSha256 => 32, MatchSha512 => 64, _ => 0 };
        if (expected > 0 && data.Length != expected)
        {
            error = $"TLSA '{text}': matching type {numbers[2]} needs a {expected}-byte digest ({expected * 2} hex digits), got {data.Length} bytes";
            return false;
        }
        association = new TlsaAssociation(numbers[0], numbers[1], numbers[2], data);
        return true;
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Usage} {Selector} {MatchingType} {Convert.ToHexString(Data)}");

    public bool Equals(TlsaAssociation? other) =>
        other is not null && Usage == other.Usage && Selector == other.Selector && MatchingType == other.MatchingType
        && Data.AsSpan().SequenceEqual(other.Data);

    public override int GetHashCode() => HashCode.Combine(Usage, Selector, MatchingType, Data.Length);
}
