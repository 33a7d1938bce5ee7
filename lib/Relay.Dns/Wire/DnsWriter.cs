using System.Buffers.Binary;

namespace Relay.Dns.Wire;

/// <summary>Builds one message; compresses names only where the caller allows it (RFC 3597 §4).</summary>
internal sealed class DnsWriter
{
    private byte[] _buffer = new byte[512];
    private int _length;
    private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);

    public int Position => _length;

    public void WriteByte(byte value)
    {
        Grow(1);
        _buffer[_length++] = value;
    }

    public void WriteUInt16(ushort value)
    {
        Grow(2);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_length), value);
        _length += 2;
    }

    public void WriteUInt32(uint value)
    {
        Grow(4);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        Grow(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
    }

    public void WriteCharacterString(ReadOnlySpan<byte> value)
    {
        if (value.Length > 255) throw new ArgumentException("character-string longer than 255 octets");
        WriteByte((byte)value.Length);
        WriteBytes(value);
    }

    public void PatchUInt16(int at, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(at), value);

    public void WriteName(string name, bool compress)
    {
        if (!DnsName.TryToLabels(name, out var labels)) throw new ArgumentException($"not a domain name: '{name}'");
        for (var i = 0; i < labels.Count; i++)
        {
            var key = SuffixKey(labels, i);
            if (compress && _names.TryGetValue(key, out var offset))
            {
                WriteUInt16((ushort)(0xC000 | offset));
                return;
            }
            if (_length < 0x3FFF) _names.TryAdd(key, _length);
            WriteByte((byte)labels[i].Length);
            WriteBytes(labels[i]);
        }
        WriteByte(0);
    }

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    private static string SuffixKey(List<byte[]> labels, int from)
    {
        // DNS case-insensitivity is ASCII only (RFC 4343): lower-case A-Z and nothing else.
        var sb = new System.Text.StringBuilder();
        for (var i = from; i < labels.Count; i++)
        {
            sb.Append((char)labels[i].Length); // length-prefixed, so labels holding any byte stay unambiguous
            foreach (var b in labels[i]) sb.Append(b is >= (byte)'A' and <= (byte)'Z' ? (char)(b + 32) : (char)b);
        }
        return sb.ToString();
    }

    private void Grow(int count)
    {
        if (_length + count <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
    }
}
