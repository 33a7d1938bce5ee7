using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Relay.EndToEnd.Tests.Operations;

/// <summary>One sample of the Prometheus text format: name, labels, value.</summary>
public sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// The relay's Relay:Metrics:Listen endpoint as a scraper sees it: plain HTTP GETs of /metrics, /healthz and /readyz,
/// and a reader of the Prometheus text exposition format (enough of it for the samples Relay writes).
/// </summary>
public sealed partial class OperationsEndpoint(int port) : IDisposable
{
    private readonly HttpClient http = new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(15) };

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using var response = await http.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<IReadOnlyList<MetricSample>> ScrapeAsync()
    {
        var (status, body) = await GetAsync("/metrics");
        Assert.True(status == HttpStatusCode.OK, $"/metrics answered {status}: {body}");
        return Parse(body);
    }

    public static IReadOnlyList<MetricSample> Parse(string text)
    {
        var samples = new List<MetricSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
                labels[label.Groups[1].Value] = label.Groups[2].Value.Replace("\\\"", "\"").Replace("\\\\", "\\");
            samples.Add(new MetricSample(match.Groups["name"].Value, labels,
                double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture)));
        }
        return samples;
    }

    public void Dispose() => http.Dispose();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}

public static class MetricSamples
{
    /// <summary>The sum of the samples of <paramref name="name"/> whose labels include every given pair (0 when none).</summary>
    public static double Sum(this IEnumerable<MetricSample> samples, string name, params (string Label, string Value)[] where) =>
        samples.Where(s => s.Name == name && where.All(w => s.Labels.TryGetValue(w.Label, out var v) && v == w.Value)).Sum(s => s.Value);

    public static bool Has(this IEnumerable<MetricSample> samples, string name) => samples.Any(s => s.Name == name);
}
