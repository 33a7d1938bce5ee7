using System.Text;
using Relay.Smtp.Protocol;

namespace Relay.Smtp.Tests.Protocol;

public class CommandLineFramerTests
{
    [Fact]
    public void A_line_is_cut_at_crlf_without_the_terminator()
    {
        var frame = new CommandLineFramer().Next("NOOP\r\nQUIT\r\n"u8);
        Assert.Equal(new Frame(FrameKind.Line, 6, 4), frame);
    }

    [Fact]
    public void Every_prefix_of_a_line_needs_more()
    {
        var line = Encoding.ASCII.GetBytes("MAIL FROM:<a@b.example>\r\n");
        for (var i = 0; i < line.Length; i++)
            Assert.Equal(FrameKind.NeedMore, new CommandLineFramer().Next(line.AsSpan(0, i)).Kind);
        Assert.Equal(FrameKind.Line, new CommandLineFramer().Next(line).Kind);
    }

    [Fact]
    public void A_line_of_512_octets_with_crlf_is_accepted_and_513_is_too_long()
    {
        var ok = Encoding.ASCII.GetBytes("NOOP " + new string('x', 505) + "\r\n");
        Assert.Equal(512, ok.Length);
        Assert.Equal(FrameKind.Line, new CommandLineFramer().Next(ok).Kind);
        var tooLong = Encoding.ASCII.GetBytes("NOOP " + new string('x', 506) + "\r\nQUIT\r\n");
        var frame = new CommandLineFramer().Next(tooLong);
        Assert.Equal(FrameKind.TooLong, frame.Kind);
        Assert.Equal(513, frame.Consumed);
    }

    [Fact]
    public void A_too_long_line_arriving_in_pieces_is_skipped_to_its_end_and_reported_once()
    {
        var framer = new CommandLineFramer(16);
        var first = framer.Next(Encoding.ASCII.GetBytes(new string('a', 20)));
        Assert.Equal(FrameKind.NeedMore, first.Kind);
        Assert.Equal(20, first.Consumed);
        Assert.Equal(FrameKind.NeedMore, framer.Next(Encoding.ASCII.GetBytes(new string('b', 30))).Kind);
        var end = framer.Next("bb\r\nNOOP\r\n"u8);
        Assert.Equal(new Frame(FrameKind.TooLong, 4, 0), end);
        Assert.Equal(new Frame(FrameKind.Line, 6, 4), framer.Next("NOOP\r\n"u8));
    }

    [Fact]
    public void A_bare_lf_ends_a_command_line()
    {
        Assert.Equal(new Frame(FrameKind.Line, 5, 4), new CommandLineFramer().Next("NOOP\n"u8));
    }
}
