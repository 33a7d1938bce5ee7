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
}
