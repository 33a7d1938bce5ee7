using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace Relay.Web.Markup;

/// <summary>
/// A piece of markup that is already safe. The only ways to make one are <see cref="Html.Of"/> (whose
/// holes are encoded) and <see cref="Html.Raw"/> for constant markup written in this assembly, so
/// peer-controlled text (EHLO names, addresses, replies, certificate names) can never become markup.
/// </summary>
public readonly struct SafeHtml(string value)
{
    public string Value => value ?? "";
    public override string ToString() => Value;
    public static SafeHtml Empty => new("");
}

public static class Html
{
    /// <summary>Builds markup from an interpolated string: literal parts are markup, every hole is text
    /// (HTML-encoded) unless it already is <see cref="SafeHtml"/>.</summary>
    public static SafeHtml Of(ref HtmlHandler handler) => handler.ToSafeHtml();

    /// <summary>Constant markup only; never pass data through here.</summary>
    public static SafeHtml Raw(string constantMarkup) => new(constantMarkup);

    public static string Encode(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    public static SafeHtml Join(IEnumerable<SafeHtml> parts)
    {
        var builder = new StringBuilder();
        foreach (var part in parts) builder.Append(part.Value);
        return new SafeHtml(builder.ToString());
    }

    public static SafeHtml Join<T>(IEnumerable<T> items, Func<T, SafeHtml> render) => Join(items.Select(render));
}

[InterpolatedStringHandler]
public ref struct HtmlHandler
{
    private readonly StringBuilder builder;

    public HtmlHandler(int literalLength, int formattedCount) => builder = new StringBuilder(literalLength + formattedCount * 16);

    public readonly void AppendLiteral(string markup) => builder.Append(markup);

    public readonly void AppendFormatted(SafeHtml html) => builder.Append(html.Value);

    public readonly void AppendFormatted(string? text) => builder.Append(Html.Encode(text));

    public readonly void AppendFormatted<T>(T value, string? format = null)
    {
        var text = value switch
        {
            null => "",
            SafeHtml html => null,
            IFormattable formattable => formattable.ToString(format, CultureInfo.InvariantCulture),
            _ => value.ToString(),
        };
        if (value is SafeHtml safe)
            builder.Append(safe.Value);
        else
            builder.Append(Html.Encode(text));
    }

    public readonly SafeHtml ToSafeHtml() => new(builder.ToString());
}
