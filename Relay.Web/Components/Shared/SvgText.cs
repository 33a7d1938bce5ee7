using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;

namespace Relay.Web.Components.Shared;

/// <summary>
/// An SVG &lt;text&gt; element. Razor reserves the &lt;text&gt; tag inside code blocks for its own use, so charts
/// write this instead; its content is encoded like any other.
/// </summary>
public sealed class SvgText : ComponentBase
{
    [Parameter] public string? Class { get; set; }
    [Parameter] public string X { get; set; } = "0";
    [Parameter] public string Y { get; set; } = "0";
    [Parameter] public RenderFragment? ChildContent { get; set; }

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        builder.OpenElement(0, "text");
        if (Class is not null) builder.AddAttribute(1, "class", Class);
        builder.AddAttribute(2, "x", X);
        builder.AddAttribute(3, "y", Y);
        builder.AddContent(4, ChildContent);
        builder.CloseElement();
    }
}
