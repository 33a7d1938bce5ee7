using System.Globalization;

namespace Relay.Smtp.Client;

/// <summary>
/// The extensions a server announced in its EHLO reply (RFC 5321 §4.1.1.1). After STARTTLS the old set
/// is discarded and only what the second EHLO says counts (RFC 3207 §4.2).
/// </summary>
public sealed class SmtpCapabilities
{
    private readonly Dictionary<string, string> keywords;

    private SmtpCapabilities(Dictionary<string, string> keywords, bool extended)
    {
        this.keywords = keywords;
        Extended = extended;
    }

    /// <summary>Nothing known: before EHLO, after STARTTLS, or after a HELO fallback.</summary>
    public static SmtpCapabilities None { get; } = new(new(StringComparer.OrdinalIgnoreCase), extended: false);

    /// <summary>False when the server only spoke HELO.</summary>
    public bool Extended { get; }

    public IEnumerable<string> Keywords => keywords.Keys;

    public static SmtpCapabilities FromEhlo(ServerReply reply)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        // The first line is the server's name and greeting, not a keyword.
        foreach (var line in reply.Lines.Skip(1))
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0) continue;
            var space = trimmed.IndexOf(' ');
            var keyword = space < 0 ? trimmed : trimmed[..space];
            map.TryAdd(keyword, space < 0 ? "" : trimmed[(space + 1)..].Trim());
        }
        return new SmtpCapabilities(map, extended: true);
    }

    public bool Supports(string keyword) => keywords.ContainsKey(keyword);
    public string? Parameter(string keyword) => keywords.TryGetValue(keyword, out var value) ? value : null;

    public bool Pipelining => Supports("PIPELINING");
    public bool StartTls => Supports("STARTTLS");
    public bool EightBitMime => Supports("8BITMIME");
    public bool SmtpUtf8 => Supports("SMTPUTF8");
    public bool RequireTls => Supports("REQUIRETLS");
    public bool Dsn => Supports("DSN");

    /// <summary>RFC 1870: announced with a limit; null when absent or 0 (no fixed limit).</summary>
    public long? MaxSize =>
        Parameter("SIZE") is { Length: > 0 } value && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0
            ? size
            : null;

    public bool AnnouncesSize => Supports("SIZE");
}
