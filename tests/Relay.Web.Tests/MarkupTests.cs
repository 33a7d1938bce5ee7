using Relay.Web.Markup;

namespace Relay.Web.Tests;

public sealed class MarkupTests
{
    [Fact]
    public void Interpolated_holes_are_encoded_and_only_safe_html_passes_through()
    {
        var peerText = "<script>x</script>\"'&";
        var inner = Html.Of($"<i>{peerText}</i>");
        var html = Html.Of($"<b title=\"{peerText}\">{inner}{1234.5}{(string?)null}</b>");
        Assert.Equal("<b title=\"&lt;script&gt;x&lt;/script&gt;&quot;&#x27;&amp;\"><i>&lt;script&gt;x&lt;/script&gt;&quot;&#x27;&amp;</i>1234.5</b>", html.Value);
    }

    [Fact]
    public void Badges_print_exactly_the_stored_word_and_keep_trusted_apart_from_verified()
    {
        Assert.Contains(">✔ trusted<", Badges.Transport("trusted").Value);
        Assert.Contains(">✔✔ verified<", Badges.Transport("verified").Value);
        Assert.DoesNotContain("verified", Badges.Transport("trusted").Value.Replace("not downgrade-resistant", ""));
        var unknown = Badges.Transport("<b>secure</b>").Value;
        Assert.Contains("t-unknown", unknown);
        Assert.Contains("&lt;b&gt;secure&lt;/b&gt;", unknown);
    }
}
