using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Relay.Web.Components.Shared;

namespace Relay.Web.Tests;

/// <summary>The shared Razor components rendered to HTML on their own (Razor's HtmlRenderer, no web host).</summary>
public sealed class MarkupTests
{
    private static async Task<string> RenderAsync<TComponent>(Dictionary<string, object?> parameters) where TComponent : IComponent
    {
        await using var services = new ServiceCollection().BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, NullLoggerFactory.Instance);
        return await renderer.Dispatcher.InvokeAsync(async () =>
            (await renderer.RenderComponentAsync<TComponent>(ParameterView.FromDictionary(parameters))).ToHtmlString());
    }

    [Fact]
    public async Task Stored_text_is_encoded_in_content_and_attributes_and_never_becomes_markup()
    {
        var peerText = "<script>x</script>\"'&";
        var text = await RenderAsync<OrDash>(new() { ["Value"] = peerText });
        Assert.Equal("&lt;script&gt;x&lt;/script&gt;&quot;&#x27;&amp;", text);
        var network = await RenderAsync<NetworkBadge>(new() { ["Word"] = peerText });
        Assert.Contains("class=\"badge t-unknown\"", network);
        Assert.DoesNotContain("<script", network);
        Assert.Equal("<span class=\"muted\">—</span>", await RenderAsync<OrDash>(new() { ["Value"] = null }));
    }

    [Fact]
    public async Task Badges_print_exactly_the_stored_word_and_keep_trusted_apart_from_verified()
    {
        var trusted = await RenderAsync<TransportBadge>(new() { ["Word"] = "trusted" });
        var verified = await RenderAsync<TransportBadge>(new() { ["Word"] = "verified" });
        Assert.Contains(">&#x2714; trusted<", trusted);
        Assert.Contains(">&#x2714;&#x2714; verified<", verified);
        Assert.DoesNotContain("verified", trusted.Replace("not downgrade-resistant", ""));
        var unknown = await RenderAsync<TransportBadge>(new() { ["Word"] = "<b>secure</b>" });
        Assert.Contains("t-unknown", unknown);
        Assert.Contains("&lt;b&gt;secure&lt;/b&gt;", unknown);
        Assert.Contains("nothing sent", await RenderAsync<TransportBadge>(new() { ["Word"] = null }));
    }
}
