using System.Text;
using Relay.Dns.Wire;

namespace Relay.Dns;

/// <summary>TXT: one or more character-strings. <see cref="Text"/> joins them with nothing in between,
/// which is how MTA-STS (RFC 8461 §3.1), TLSRPT and SPF read multi-string records.</summary>
public sealed class TxtRecord : DnsRecord
{
    public TxtRecord(string name, uint ttl, IReadOnlyList<byte[]> strings, ushort @class = ClassIN) : base(name, ttl, @class)
    {
        if (strings.Count == 0) throw new ArgumentException("TXT needs at least one string");
        if (strings.Any(s => s.Length > 255)) throw new ArgumentException("TXT string longer than 255 octets");
        Strings = strings.Select(s => (byte[])s.Clone()).ToArray();
    }

    /// <summary>Convenience: UTF-8 strings, each at most 255 octets once encoded.</summary>
    public TxtRecord(string name, uint ttl, params string[] strings)
        : this(name, ttl, strings.Select(Encoding.UTF8.GetBytes).ToArray()) { }

    public override DnsType Type => DnsType.TXT;
    public IReadOnlyList<byte[]> Strings { get; }

    /// <summary>All strings concatenated, decoded as UTF-8 (invalid bytes become U+FFFD).</summary>
    public string Text => Encoding.UTF8.GetString(Strings.SelectMany(s => s).ToArray());

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var s in Strings)
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append('"');
            foreach (var b in s)
            {
                if (b is (byte)'"' or (byte)'\\') sb.Append('\\').Append((char)b);
                else if (b >= 0x20 && b < 0x7F) sb.Append((char)b);
                else sb.Append('\\').Append(((int)b).ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
            }
            sb.Append('"');
        }
        return sb.ToString();
    }

    internal override void WriteData(DnsWriter writer)
    {
        foreach (var s in Strings) writer.WriteCharacterString(s);
    }

    internal static TxtRecord Read(string name, uint ttl, ushort @class, ref DnsReader reader)
    {
        var strings = new List<byte[]>();
        while (reader.Remaining > 0) strings.Add(reader.ReadCharacterString());
        if (strings.Count == 0) throw new DnsFormatException("empty TXT RDATA");
        return new TxtRecord(name, ttl, strings, @class);
    }
}
