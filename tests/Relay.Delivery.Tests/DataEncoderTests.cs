using System.Text;
using Relay.Smtp.Client;

namespace Relay.Delivery.Tests;

public class DataEncoderTests
{
    /// <summary>The outbound SMTP smuggling sequences: each ends the data at some lenient receiver if sent raw.</summary>
    public static TheoryData<string> SmugglingSequences => new()
    {
        "\n.\n", "\n.\r\n", "\r.\r", "\r.\n", "\n.\r", "\r\n.\r", "\r.\r\n", "\r\n.\n", "\r\n\0.\r\n",
    };

    [Theory]
    [MemberData(nameof(SmugglingSequences))]
    public void Smuggling_sequence_leaves_normalised_and_cannot_end_the_data(string sequence)
    {
        var body = Encoding.ASCII.GetBytes($"Subject: x\r\n\r\nbefore{sequence}MAIL FROM:<evil@example>\r\nafter\r\n");
        var wire = DataEncoder.Encode(body);
        AssertCleanWire(wire);
    }

    internal static void AssertCleanWire(byte[] wire)
    {
        for (var i = 0; i < wire.Length; i++)
        {
            if (wire[i] == (byte)'\r') Assert.True(i + 1 < wire.Length && wire[i + 1] == (byte)'\n', $"bare CR at {i}");
            if (wire[i] == (byte)'\n') Assert.True(i > 0 && wire[i - 1] == (byte)'\r', $"bare LF at {i}");
            Assert.NotEqual(0, wire[i]);
        }
        var text = Encoding.ASCII.GetString(wire);
        Assert.EndsWith("\r\n.\r\n", text);
        var lines = text.Split("\r\n");
        // Exactly one line is a lone dot: the terminator (the split leaves an empty string after it).
        Assert.Equal(1, lines.Count(l => l == "."));
        Assert.Equal(".", lines[^2]);
    }

    [Fact]
    public void Leading_dots_are_stuffed_and_unterminated_last_line_gets_crlf()
    {
        var wire = Encoding.ASCII.GetString(DataEncoder.Encode(".top\r\nmid\r\n..two\r\nlast"u8));
        Assert.Equal("..top\r\nmid\r\n...two\r\nlast\r\n.\r\n", wire);
    }

    [Fact]
    public void Empty_body_is_just_the_terminator()
    {
        Assert.Equal(".\r\n", Encoding.ASCII.GetString(DataEncoder.Encode([])));
    }

    [Fact]
    public void Eight_bit_content_is_detected()
    {
        Assert.False(DataEncoder.HasEightBit("plain ascii\r\n"u8));
        Assert.True(DataEncoder.HasEightBit(Encoding.UTF8.GetBytes("grüße\r\n")));
    }

    [Fact]
    public void Encoding_in_runs_gives_the_same_bytes_as_encoding_octet_by_octet()
    {
        // Bodies made of the octets that matter (CR, LF, NUL, '.') among ordinary ones, in every mix, against the
        // octet-by-octet definition of the encoding that the run-copying encoder replaced.
        var alphabet = new byte[] { (byte)'\r', (byte)'\n', 0, (byte)'.', (byte)'a', (byte)'b', 0xC3 };
        var random = new Random(12);
        for (var n = 0; n < 2000; n++)
        {
            var body = new byte[random.Next(0, 40)];
            for (var i = 0; i < body.Length; i++) body[i] = alphabet[random.Next(alphabet.Length)];
            Assert.Equal(OctetByOctet(body), DataEncoder.Encode(body));
        }
    }

    private static byte[] OctetByOctet(byte[] body)
    {
        var output = new List<byte>();
        var atLineStart = true;
        for (var i = 0; i < body.Length; i++)
        {
            var b = body[i];
            if (b == 0) continue;
            if (b == (byte)'\r' || b == (byte)'\n')
            {
                if (b == (byte)'\r' && i + 1 < body.Length && body[i + 1] == (byte)'\n') i++;
                output.AddRange("\r\n"u8);
                atLineStart = true;
                continue;
            }
            if (atLineStart && b == (byte)'.') output.Add((byte)'.');
            output.Add(b);
            atLineStart = false;
        }
        if (!atLineStart) output.AddRange("\r\n"u8);
        output.AddRange(".\r\n"u8);
        return output.ToArray();
    }
}
