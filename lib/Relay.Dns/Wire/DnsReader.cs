using System.Buffers.Binary;
using System.Text;

namespace Relay.Dns.Wire;

/// <summary>
/// Cursor over one message. Every read is bounds-checked against the current limit (the message, or
/// one record's RDATA) and throws <see cref="DnsFormatException"/> past it. No I/O.
/// </summary>
internal ref struct DnsReader
{
    // RFC 1035 allows any backward pointer; real names need a handful. The strictly-backward rule below
    // already rules out loops, the count bounds the work on hostile input.
    private const int MaxPointerJumps = 32;

    private readonly ReadOnlySpan<byte> _message;
    private int _position;
    private int _limit;

    public DnsReader(ReadOnlySpan<byte> message)
    {
        _message = message;
        _position = 0;
        _limit = message.Length;
    }

    public readonly int Position => _position;
    public readonly int Remaining => _limit - _position;

    public byte ReadByte()
    {
        Need(1);
        return _message[_position++];
    }

    public ushort ReadUInt16()
    {
        Need(2);
        var v = BinaryPrimitives.ReadUInt16BigEndian(_message[_position..]);
        _position += 2;
        return v;
    }

    public uint ReadUInt32()
    {
        Need(4);
        var v = BinaryPrimitives.ReadUInt32BigEndian(_message[_position..]);
        _position += 4;
        return v;
    }

    public byte[] ReadBytes(int count)
    {
        if (count < 0) throw new DnsFormatException("negative length");
        Need(count);
        var v = _message.Slice(_position, count).ToArray();
        _position += count;
        return v;
    }

    public byte[] ReadRest() => ReadBytes(Remaining);

    /// <summary>A &lt;character-string&gt;: one length byte, then that many bytes.</summary>
    public byte[] ReadCharacterString() => ReadBytes(ReadByte());

    /// <summary>Restricts reads to the next <paramref name="length"/> bytes; returns the previous limit.</summary>
    public int PushLimit(int length)
    {
        Need(length);
        var previous = _limit;
        _limit = _position + length;
        return previous;
    }

    /// <summary>Ends a limited region, which must have been consumed exactly.</summary>
    public void PopLimit(int previous)
    {
        if (_position != _limit) throw new DnsFormatException($"{_limit - _position} bytes left over in RDATA");
        _limit = previous;
    }

    public string ReadName(bool allowCompression = true)
    {
        var sb = new StringBuilder();
        var pos = _position;
        var limit = _limit;          // labels before the first pointer must stay inside the current limit
        var jumped = false;
        var jumps = 0;
        var lowestTarget = _position; // every pointer must point strictly before the previous one's target
        var wireLength = 1;
        while (true)
        {
            if (pos >= limit) throw new DnsFormatException("name runs past the end");
            var len = _message[pos];
            if ((len & 0xC0) == 0xC0)
            {
                if (!allowCompression) throw new DnsFormatException("compressed name where compression is forbidden");
                if (pos + 1 >= limit) throw new DnsFormatException("truncated compression pointer");
                var target = ((len & 0x3F) << 8) | _message[pos + 1];
                if (!jumped) _position = pos + 2;
                if (target >= lowestTarget) throw new DnsFormatException("compression pointer does not point backwards");
                if (++jumps > MaxPointerJumps) throw new DnsFormatException("too many compression pointers");
                lowestTarget = target;
                jumped = true;
                limit = _message.Length; // a pointer may reach anywhere earlier in the message
                pos = target;
                continue;
            }
            if ((len & 0xC0) != 0) throw new DnsFormatException("reserved label type");
            if (len == 0)
            {
                if (!jumped) _position = pos + 1;
                break;
            }
            wireLength += len + 1;
            if (wireLength > DnsName.MaxWireLength) throw new DnsFormatException("name longer than 255 octets");
            if (pos + 1 + len > limit) throw new DnsFormatException("label runs past the end");
            DnsName.AppendLabel(sb, _message.Slice(pos + 1, len));
            sb.Append('.');
            pos += 1 + len;
        }
        return sb.Length == 0 ? "." : sb.ToString();
    }

    private readonly void Need(int count)
    {
        if (count > _limit - _position) throw new DnsFormatException("length past the end");
    }
}
