using System.Text;
using Relay.Smtp.Server;

namespace Relay.Smtp.Tests.Server;

public class DataReaderTests
{
    private static readonly DataReaderOptions Defaults = new(1_000_000);

    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(ReadOnlyMemory<byte> m) => Encoding.Latin1.GetString(m.Span);

    /// <summary>Feeds the input split at every position (and byte by byte) and checks every split agrees.</summary>
    private static (bool Ended, int Consumed, string Body, DataError Error) ReadAllSplits(string input, DataReaderOptions? options = null)
    {
        var bytes = B(input);
        (bool, int, string, DataError)? first = null;
        for (var split = 0; split <= bytes.Length; split++)
        {
            var reader = new DataReader(options ?? Defaults, dotTransparency: true);
            var consumed = reader.Feed(bytes.AsSpan(0, split));
            if (!reader.Ended) consumed += reader.Feed(bytes.AsSpan(split));
            var result = (reader.Ended, consumed, S(reader.Body), reader.Error);
            first ??= result;
            Assert.Equal(first, result);
        }
        var single = new DataReader(options ?? Defaults, dotTransparency: true);
        var total = 0;
        for (var i = 0; i < bytes.Length && !single.Ended; i++) total += single.Feed(bytes.AsSpan(i, 1));
        Assert.Equal(first, (single.Ended, total, S(single.Body), single.Error));
        return first!.Value;
    }

    [Fact]
    public void Crlf_dot_crlf_ends_data_and_leaves_the_rest_for_the_next_command()
    {
        var r = ReadAllSplits("Subject: a\r\n\r\nhello\r\n.\r\nQUIT\r\n");
        Assert.True(r.Ended);
        Assert.Equal("Subject: a\r\n\r\nhello\r\n", r.Body);
        Assert.Equal("Subject: a\r\n\r\nhello\r\n.\r\n".Length, r.Consumed);
    }

    [Fact]
    public void Empty_message_ends_on_dot_right_after_the_DATA_line()
    {
        var r = ReadAllSplits(".\r\n");
        Assert.True(r.Ended);
        Assert.Equal("", r.Body);
    }

    [Theory]
    [InlineData("\n.\n")]
    [InlineData("\n.\r\n")]
    [InlineData("\r.\r")]
    [InlineData("\r.\n")]
    [InlineData("\n.\r")]
    [InlineData("\r\n.\r")]
    [InlineData("\r\n.\n")]
    [InlineData("\r.\r\n")]
    [InlineData("\r\n\x00.\r\n")]
    [InlineData("\r\n.\x00\r\n")]
    [InlineData("\r\n \r\n.\n")]
    [InlineData("\r\r\n.\r\r\n")]
    public void Smuggling_sequences_never_end_data_and_leave_no_bare_line_ending(string sequence)
    {
        var input = "Subject: x\r\n\r\nbody" + sequence + "MAIL FROM:<evil@example.com>\r\n";
        var r = ReadAllSplits(input);
        Assert.False(r.Ended);
        Assert.Equal(input.Length, r.Consumed);
        AssertOnlyCrlf(r.Body);
        Assert.Contains("MAIL FROM:<evil@example.com>\r\n", r.Body);
    }

    [Fact]
    public void Every_prefix_of_a_message_is_incomplete_until_the_last_octet()
    {
        var input = "a\r\n..b\r\n.\r\n";
        for (var length = 0; length < input.Length; length++)
        {
            var reader = new DataReader(Defaults, dotTransparency: true);
            Assert.Equal(length, reader.Feed(B(input[..length])));
            Assert.False(reader.Ended);
        }
    }

    [Fact]
    public void Leading_dots_are_unstuffed_only_on_lines_after_a_real_crlf()
    {
        var r = ReadAllSplits("..a\r\n...\r\nx\n..y\r\n.\r\n");
        Assert.True(r.Ended);
        Assert.Equal(".a\r\n..\r\nx\r\n..y\r\n", r.Body);
    }

    [Fact]
    public void Bare_lf_and_bare_cr_are_stored_as_crlf_by_default()
    {
        var r = ReadAllSplits("a\nb\rc\r\n.\r\n");
        Assert.Equal("a\r\nb\r\nc\r\n", r.Body);
        Assert.Equal(DataError.None, r.Error);
    }

    [Fact]
    public void Reject_mode_reads_to_the_real_end_and_reports_bare_line_endings()
    {
        var r = ReadAllSplits("a\nb\r\n.\r\n", new DataReaderOptions(1000, BareLineEndingMode.Reject));
        Assert.True(r.Ended);
        Assert.Equal(DataError.BareLineEnding, r.Error);
        Assert.Equal("", r.Body);
    }

    [Fact]
    public void Oversized_content_is_read_to_the_end_then_reported_too_big_with_nothing_kept()
    {
        var r = ReadAllSplits(new string('x', 50) + "\r\n" + new string('y', 50) + "\r\n.\r\n", new DataReaderOptions(60));
        Assert.True(r.Ended);
        Assert.Equal(DataError.TooBig, r.Error);
        Assert.Equal("", r.Body);
    }

    [Fact]
    public void Content_of_exactly_the_size_limit_is_accepted()
    {
        var r = ReadAllSplits("12345678\r\n.\r\n", new DataReaderOptions(10));
        Assert.Equal(DataError.None, r.Error);
        Assert.Equal("12345678\r\n", r.Body);
    }

    [Fact]
    public void A_line_of_1000_octets_with_crlf_passes_and_1001_is_too_long()
    {
        Assert.Equal(DataError.None, ReadAllSplits(new string('a', 998) + "\r\n.\r\n").Error);
        Assert.Equal(DataError.LineTooLong, ReadAllSplits(new string('a', 999) + "\r\n.\r\n").Error);
    }

    [Fact]
    public void Bdat_content_is_not_unstuffed_and_a_trailing_cr_becomes_crlf()
    {
        var reader = new DataReader(Defaults, dotTransparency: false);
        reader.Feed(B(".\r\n..x\r"));
        reader.Feed(B("\ny\r"));
        reader.Complete();
        Assert.Equal(".\r\n..x\r\ny\r\n", S(reader.Body));
    }

    [Fact]
    public void Binarymime_chunks_are_stored_verbatim()
    {
        var reader = new DataReader(Defaults, dotTransparency: false, binary: true);
        reader.Feed(B("\0\n\r."));
        reader.Complete();
        Assert.Equal("\0\n\r.", S(reader.Body));
    }

    private static void AssertOnlyCrlf(string body)
    {
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] == '\r') Assert.True(i + 1 < body.Length && body[i + 1] == '\n', $"bare CR at {i}");
            if (body[i] == '\n') Assert.True(i > 0 && body[i - 1] == '\r', $"bare LF at {i}");
        }
    }

    [Fact]
    public void Content_past_what_the_reserve_grants_marks_the_message_no_memory_and_stores_nothing_more()
    {
        long granted = 0;
        var reader = new DataReader(new DataReaderOptions(10_000_000, Reserve: n => { if (granted + n > 200_000) return false; granted += n; return true; }),
            dotTransparency: true);
        var line = System.Text.Encoding.ASCII.GetBytes(new string('x', 998) + "\r\n");
        for (var i = 0; i < 300; i++) reader.Feed(line);
        reader.Feed("\r\n.\r\n"u8);
        Assert.True(reader.Ended);
        Assert.Equal(DataError.NoMemory, reader.Error);
        Assert.True(reader.Body.IsEmpty);
        Assert.Equal(granted, reader.Reserved);
        Assert.InRange(reader.Reserved, DataReader.ReserveStep, 200_000);
    }

    [Fact]
    public void Header_length_ends_at_the_empty_line_and_is_the_whole_content_without_one()
    {
        Assert.Equal(13, HeaderScanner.HeaderLength("Subject: hi\r\n\r\nbody\r\n"u8));
        Assert.Equal(0, HeaderScanner.HeaderLength("\r\nbody\r\n"u8));
        Assert.Equal(13, HeaderScanner.HeaderLength("Subject: hi\r\n"u8));
    }

    [Fact]
    public void A_large_message_grows_the_rented_buffer_without_losing_an_octet_and_a_released_reader_takes_no_more()
    {
        var random = new Random(7);
        var lines = Enumerable.Range(0, 2_000).Select(i => new string((char)('a' + random.Next(26)), random.Next(0, 200))).ToArray();
        var reader = new DataReader(Defaults, dotTransparency: true);
        foreach (var line in lines) reader.Feed(B(line + "\r\n"));
        reader.Feed(B(".\r\n"));
        Assert.True(reader.Ended);
        Assert.Equal(string.Concat(lines.Select(l => l + "\r\n")), S(reader.Body));

        reader.Release();
        Assert.True(reader.Body.IsEmpty);
        // Past DataReader.PooledLimit the buffer is the reader's own, and Release leaves it to the collector.
        var large = new DataReader(new DataReaderOptions(10_000_000), dotTransparency: false);
        var chunk = B(new string('y', 998) + "\r\n");
        for (var i = 0; i < 1_500; i++) large.Feed(chunk);
        large.Complete();
        Assert.Equal(DataError.None, large.Error);
        Assert.Equal(1_500 * chunk.Length, large.Body.Length);
        Assert.Equal(-1, large.Body.Span.IndexOfAnyExcept("y\r\n"u8));
        large.Release();
        Assert.True(large.Body.IsEmpty);

        var released = new DataReader(Defaults, dotTransparency: false);
        released.Release();
        Assert.Throws<InvalidOperationException>(() => released.Feed(B("x")));
    }
}
