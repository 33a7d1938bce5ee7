using Relay.Smtp.Server;

namespace Relay.Smtp.Tests.Server;

public class XtextTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a+b=c d", "a+2Bb+3Dc+20d")]
    [InlineData("\u00e9", "+C3+A9")]
    public void Encode_and_decode_round_trip(string text, string xtext)
    {
        Assert.Equal(xtext, Xtext.Encode(text));
        Assert.True(Xtext.IsValid(xtext));
        Assert.Equal(text, Xtext.Decode(xtext));
    }

    [Theory]
    [InlineData("a+2b")]
    [InlineData("a+2")]
    [InlineData("a=b")]
    [InlineData("a b")]
    public void Malformed_xtext_is_invalid(string value) => Assert.False(Xtext.IsValid(value));
}
