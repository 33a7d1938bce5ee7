using System.Globalization;
using Relay.Db;

namespace Relay.Web.Markup;

/// <summary>Server-rendered SVG: no script, no inline style, only attributes and our stylesheet's classes.</summary>
public static class Charts
{
    private const int LabelWidth = 70;
    private const int BarWidth = 560;
    private const int RowHeight = 26;

    /// <summary>One stacked bar per period: the share of attempts per transport word, weakest first.</summary>
    public static SafeHtml TransportBars(IReadOnlyList<PeriodCounts> periods)
    {
        var rows = new List<SafeHtml>();
        for (var i = 0; i < periods.Count; i++)
        {
            var period = periods[i];
            var y = 20 + i * (RowHeight + 12);
            var segments = Vocabulary.Transports.Select(t => (Word: t, Count: period.ByTransport.GetValueOrDefault(t))).ToList();
            rows.Add(Row(period.Period, y, period.Total, segments.Select(s => (s.Word, s.Word, s.Count)).ToList()));
        }
        var height = 20 + periods.Count * (RowHeight + 12);
        return Svg(height, "Delivery attempts by transport outcome in the last hour, day and week", Html.Join(rows));
    }

    /// <summary>The network layer beside it: how many attempts had IPsec (either kind) under them.</summary>
    public static SafeHtml NetworkBars(IReadOnlyList<PeriodCounts> periods)
    {
        var rows = new List<SafeHtml>();
        for (var i = 0; i < periods.Count; i++)
        {
            var period = periods[i];
            var y = 20 + i * (RowHeight + 12);
            var ipsec = period.ByNetwork.GetValueOrDefault("ipsec-anonymous") + period.ByNetwork.GetValueOrDefault("ipsec-authenticated");
            rows.Add(Row(period.Period, y, period.Total, [("ipsec", "ipsec", ipsec), ("noipsec", "no ipsec", period.Total - ipsec)]));
        }
        return Svg(20 + periods.Count * (RowHeight + 12), "Delivery attempts with and without IPsec", Html.Join(rows));
    }

    /// <summary>A small proportional bar for one peer's attempts per outcome (counts weakest first).</summary>
    public static SafeHtml Share(int cleartext, int encrypted, int trusted, int verified)
    {
        var counts = Vocabulary.Transports.Zip(new[] { cleartext, encrypted, trusted, verified }).ToArray();
        var total = counts.Sum(c => c.Item2);
        var x = 0.0;
        var parts = new List<SafeHtml>();
        foreach (var (word, count) in counts)
        {
            if (count == 0 || total == 0) continue;
            var width = 100.0 * count / total;
            parts.Add(Html.Of($"<rect class=\"{word}\" x=\"{F(x)}\" y=\"0\" width=\"{F(width)}\" height=\"10\"><title>{word}: {count}</title></rect>"));
            x += width;
        }
        var title = string.Join(", ", counts.Select(c => $"{c.Item1} {c.Item2}"));
        return Html.Of($"<svg class=\"share\" width=\"100\" height=\"10\" viewBox=\"0 0 100 10\" role=\"img\" aria-label=\"{title}\"><rect class=\"empty\" width=\"100\" height=\"10\"/>{Html.Join(parts)}</svg>");
    }

    private static SafeHtml Row(string label, int y, int total, IReadOnlyList<(string Class, string Word, int Count)> segments)
    {
        var parts = new List<SafeHtml> { Html.Of($"<text x=\"0\" y=\"{y + 17}\">{label}</text>") };
        parts.Add(Html.Of($"<rect class=\"empty\" x=\"{LabelWidth}\" y=\"{y}\" width=\"{BarWidth}\" height=\"{RowHeight}\"/>"));
        var x = (double)LabelWidth;
        foreach (var (cls, word, count) in segments)
        {
            if (count == 0 || total == 0) continue;
            var width = (double)BarWidth * count / total;
            parts.Add(Html.Of($"<rect class=\"{cls}\" x=\"{F(x)}\" y=\"{y}\" width=\"{F(width)}\" height=\"{RowHeight}\"><title>{word}: {count}</title></rect>"));
            if (width > 28)
                parts.Add(Html.Of($"<text class=\"seg-label\" x=\"{F(x + 4)}\" y=\"{y + 17}\">{count}</text>"));
            x += width;
        }
        parts.Add(Html.Of($"<text x=\"{LabelWidth + BarWidth + 8}\" y=\"{y + 17}\">{(total == 0 ? "no attempts" : $"{total} total")}</text>"));
        return Html.Join(parts);
    }

    private static SafeHtml Svg(int height, string title, SafeHtml body) => Html.Of(
        $"<svg class=\"chart\" width=\"{LabelWidth + BarWidth + 100}\" height=\"{height}\" viewBox=\"0 0 {LabelWidth + BarWidth + 100} {height}\" role=\"img\" aria-label=\"{title}\"><title>{title}</title>{body}</svg>");

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
