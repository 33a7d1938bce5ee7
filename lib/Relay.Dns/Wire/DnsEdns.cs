using System.Text;

namespace Relay.Dns.Wire;

public sealed record DnsEdnsOption(ushort Code, byte[] Data);

/// <summary>The EDNS0 OPT pseudo-record (RFC 6891), with the DO bit (RFC 3225) and Extended DNS Errors (RFC 8914).</summary>
public sealed class DnsEdns
{
    public const ushort ExtendedErrorOption = 15;

    public ushort UdpPayloadSize { get; init; } = 1232;
    public byte ExtendedRcode { get; init; }
    public byte Version { get; init; }
    public bool DnssecOk { get; init; }
    public IReadOnlyList<DnsEdnsOption> Options { get; init; } = [];

    /// <summary>RFC 8914 INFO-CODE of the first Extended DNS Error option (e.g. 6 "DNSSEC Bogus", 9 "DNSKEY Missing").</summary>
    public ushort? ExtendedErrorCode =>
        Options.FirstOrDefault(o => o.Code == ExtendedErrorOption && o.Data.Length >= 2) is { } o
            ? (ushort)((o.Data[0] << 8) | o.Data[1])
            : null;

    public string? ExtendedErrorText =>
        Options.FirstOrDefault(o => o.Code == ExtendedErrorOption && o.Data.Length > 2) is { } o
            ? Encoding.UTF8.GetString(o.Data, 2, o.Data.Length - 2).TrimEnd('\0')
            : null;

    internal void Write(DnsWriter writer, byte extendedRcode)
    {
        writer.WriteByte(0); // root owner
        writer.WriteUInt16((ushort)DnsType.OPT);
        writer.WriteUInt16(UdpPayloadSize);
        writer.WriteByte(extendedRcode);
        writer.WriteByte(Version);
        writer.WriteUInt16(DnssecOk ? (ushort)0x8000 : (ushort)0);
        var lengthAt = writer.Position;
        writer.WriteUInt16(0);
        foreach (var option in Options)
        {
            writer.WriteUInt16(option.Code);
            writer.WriteUInt16((ushort)option.Data.Length);
            writer.WriteBytes(option.Data);
        }
        writer.PatchUInt16(lengthAt, (ushort)(writer.Position - lengthAt - 2));
    }

    internal static DnsEdns Read(ushort payload, uint ttl, ref DnsReader reader)
    {
        var options = new List<DnsEdnsOption>();
        while (reader.Remaining > 0)
        {
            var code = reader.ReadUInt16();
            var length = reader.ReadUInt16();
            options.Add(new DnsEdnsOption(code, reader.ReadBytes(length)));
        }
        return new DnsEdns
        {
            // RFC 6891 §6.2.3: values below 512 are treated as 512.
            UdpPayloadSize = Math.Max(payload, (ushort)512),
            ExtendedRcode = (byte)(ttl >> 24),
            Version = (byte)(ttl >> 16),
            DnssecOk = (ttl & 0x8000) != 0,
            Options = options,
        };
    }
}
