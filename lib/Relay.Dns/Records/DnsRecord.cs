using System.Globalization;
using Relay.Dns.Wire;

namespace Relay.Dns;

/// <summary>
/// One resource record. <see cref="ToString"/> gives the RDATA in presentation format (what `dig +short`
/// prints, e.g. TLSA "3 1 1 ABCD…"); <see cref="ToZoneLine"/> gives the whole master-file line.
/// The set of subclasses is closed: types without a class here arrive as <see cref="UnknownRecord"/>.
/// </summary>
public abstract class DnsRecord
{
    public const ushort ClassIN = 1;

    private protected DnsRecord(string name, uint ttl, ushort @class)
    {
        Name = DnsName.Normalize(name);
        Ttl = ttl;
        Class = @class;
    }

    /// <summary>Owner name, absolute presentation with trailing dot.</summary>
    public string Name { get; }

    public abstract DnsType Type { get; }

    public uint Ttl { get; }

    public ushort Class { get; }

    /// <summary>RDATA presentation format.</summary>
    public abstract override string ToString();

    public string ToZoneLine()
    {
        var cls = Class == ClassIN ? "IN" : "CLASS" + Class.ToString(CultureInfo.InvariantCulture);
        return $"{Name} {Ttl.ToString(CultureInfo.InvariantCulture)} {cls} {DnsTypes.ToText(Type)} {this}";
    }

    internal abstract void WriteData(DnsWriter writer);

    internal void Write(DnsWriter writer, bool compressOwner = true)
    {
        writer.WriteName(Name, compressOwner);
        writer.WriteUInt16((ushort)Type);
        writer.WriteUInt16(Class);
        writer.WriteUInt32(Ttl);
        var lengthAt = writer.Position;
        writer.WriteUInt16(0);
        WriteData(writer);
        var length = writer.Position - lengthAt - 2;
        if (length > ushort.MaxValue) throw new ArgumentException("RDATA longer than 65535 octets");
        writer.PatchUInt16(lengthAt, (ushort)length);
    }

    internal static string Hex(ReadOnlySpan<byte> data) => Convert.ToHexString(data);

    internal static string Number(uint value) => value.ToString(CultureInfo.InvariantCulture);
}
