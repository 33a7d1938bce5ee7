using System.Diagnostics.CodeAnalysis;

namespace Relay.Dns.Wire;

/// <summary>
/// One DNS message (RFC 1035 §4). <see cref="TryParse"/> answers every input with a message or an error
/// text and does no I/O; <see cref="ToBytes"/> writes one.
/// </summary>
public sealed class DnsMessage
{
    public ushort Id { get; init; }
    public bool IsResponse { get; init; }
    public byte Opcode { get; init; }
    public bool Authoritative { get; init; }
    public bool Truncated { get; init; }
    public bool RecursionDesired { get; init; }
    public bool RecursionAvailable { get; init; }
    public bool AuthenticData { get; init; }
    public bool CheckingDisabled { get; init; }

    /// <summary>Full response code: the header's four bits plus the OPT record's extended bits.</summary>
    public DnsRcode Rcode { get; init; }

    public IReadOnlyList<DnsQuestion> Questions { get; init; } = [];
    public IReadOnlyList<DnsRecord> Answers { get; init; } = [];
    public IReadOnlyList<DnsRecord> Authorities { get; init; } = [];

    /// <summary>Additional records without the OPT pseudo-record, which is in <see cref="Edns"/>.</summary>
    public IReadOnlyList<DnsRecord> Additionals { get; init; } = [];

    public DnsEdns? Edns { get; init; }

    /// <summary>A recursive query with EDNS0, DO=1 and AD=1 (RFC 6840 §5.7: ask for the AD bit).</summary>
    public static DnsMessage Query(ushort id, string name, DnsType type, ushort udpPayloadSize) => new()
    {
        Id = id,
        RecursionDesired = true,
        AuthenticData = true,
        Questions = [new DnsQuestion(DnsName.Normalize(name), type)],
        Edns = new DnsEdns { UdpPayloadSize = udpPayloadSize, DnssecOk = true },
    };

    public byte[] ToBytes()
    {
        var w = new DnsWriter();
        var rcode = (ushort)Rcode;
        if (rcode > 0xF && Edns is null) throw new InvalidOperationException("extended RCODE needs an OPT record");
        w.WriteUInt16(Id);
        var flags = (IsResponse ? 0x8000 : 0) | ((Opcode & 0xF) << 11) | (Authoritative ? 0x400 : 0)
            | (Truncated ? 0x200 : 0) | (RecursionDesired ? 0x100 : 0) | (RecursionAvailable ? 0x80 : 0)
            | (AuthenticData ? 0x20 : 0) | (CheckingDisabled ? 0x10 : 0) | (rcode & 0xF);
        w.WriteUInt16((ushort)flags);
        w.WriteUInt16((ushort)Questions.Count);
        w.WriteUInt16((ushort)Answers.Count);
        w.WriteUInt16((ushort)Authorities.Count);
        w.WriteUInt16((ushort)(Additionals.Count + (Edns is null ? 0 : 1)));
        foreach (var q in Questions)
        {
            w.WriteName(q.Name, compress: true);
            w.WriteUInt16((ushort)q.Type);
            w.WriteUInt16(q.Class);
        }
        foreach (var r in Answers) r.Write(w);
        foreach (var r in Authorities) r.Write(w);
        foreach (var r in Additionals) r.Write(w);
        Edns?.Write(w, (byte)(rcode >> 4));
        return w.ToArray();
    }

    public static bool TryParse(ReadOnlySpan<byte> packet, [NotNullWhen(true)] out DnsMessage? message,
        [NotNullWhen(false)] out string? error)
    {
        try
        {
            message = Parse(packet);
            error = null;
            return true;
        }
        catch (DnsFormatException e)
        {
            message = null;
            error = "malformed DNS message: " + e.Message;
            return false;
        }
    }

    private static DnsMessage Parse(ReadOnlySpan<byte> packet)
    {
        var r = new DnsReader(packet);
        var id = r.ReadUInt16();
        var flags = r.ReadUInt16();
        var qd = r.ReadUInt16();
        var an = r.ReadUInt16();
        var ns = r.ReadUInt16();
        var ar = r.ReadUInt16();
        var questions = new List<DnsQuestion>();
        for (var i = 0; i < qd; i++)
        {
            var name = r.ReadName();
            questions.Add(new DnsQuestion(name, (DnsType)r.ReadUInt16(), r.ReadUInt16()));
        }
        var answers = ReadSection(ref r, an, allowOpt: false, out _);
        var authorities = ReadSection(ref r, ns, allowOpt: false, out _);
        var additionals = ReadSection(ref r, ar, allowOpt: true, out var edns);
        if (r.Remaining != 0) throw new DnsFormatException($"{r.Remaining} bytes after the last record");
        return new DnsMessage
        {
            Id = id,
            IsResponse = (flags & 0x8000) != 0,
            Opcode = (byte)((flags >> 11) & 0xF),
            Authoritative = (flags & 0x400) != 0,
            Truncated = (flags & 0x200) != 0,
            RecursionDesired = (flags & 0x100) != 0,
            RecursionAvailable = (flags & 0x80) != 0,
            AuthenticData = (flags & 0x20) != 0,
            CheckingDisabled = (flags & 0x10) != 0,
            Rcode = (DnsRcode)((flags & 0xF) | ((edns?.ExtendedRcode ?? 0) << 4)),
            Questions = questions,
            Answers = answers,
            Authorities = authorities,
            Additionals = additionals,
            Edns = edns,
        };
    }

    private static List<DnsRecord> ReadSection(ref DnsReader r, int count, bool allowOpt, out DnsEdns? edns)
    {
        edns = null;
        var records = new List<DnsRecord>();
        for (var i = 0; i < count; i++)
        {
            var name = r.ReadName();
            var type = (DnsType)r.ReadUInt16();
            var @class = r.ReadUInt16();
            var ttl = r.ReadUInt32();
            var length = r.ReadUInt16();
            var outer = r.PushLimit(length);
            if (type == DnsType.OPT)
            {
                // RFC 6891 §6.1.1: at most one OPT, owner is the root, only in the additional section.
                if (!allowOpt || edns is not null || name != ".") throw new DnsFormatException("misplaced OPT record");
                edns = DnsEdns.Read(@class, ttl, ref r);
            }
            else
            {
                records.Add(DnsRecordReader.Read(name, type, @class, ttl, ref r));
            }
            r.PopLimit(outer);
        }
        return records;
    }
}
