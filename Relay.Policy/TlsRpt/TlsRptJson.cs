using System.IO.Compression;
using System.Text.Json;

namespace Relay.Policy.TlsRpt;

/// <summary>
/// The report as RFC 8460 §4.4 spells it, field names exactly as the RFC: `organization-name`, `date-range`
/// (`start-datetime`, `end-datetime`), `contact-info`, `report-id`, `policies` (`policy`: `policy-type`, `policy-string`,
/// `policy-domain`, `mx-host`; `summary`: `total-successful-session-count`, `total-failure-session-count`;
/// `failure-details`: `result-type`, `sending-mta-ip`, `receiving-mx-hostname`, `receiving-mx-helo`, `receiving-ip`,
/// `failed-session-count`). Optional fields that are unknown are left out, never written as null. `policy-string` and
/// `mx-host` are JSON arrays of strings, as the §4.4 schema defines them ("provided as a JSON array of strings"; the
/// Appendix B example's single string for `mx-host` is not the schema). The schema defines `mx-host` for `sts` (the policy's
/// mx patterns); for `tlsa` Relay writes the MX host whose TLSA RRset the `policy-string` holds, so two MX hosts' DANE
/// policies stay two distinguishable entries.
/// </summary>
public static class TlsRptJson
{
    public static byte[] Serialize(TlsRptReport report, bool indented = false)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
            Write(json, report);
        return buffer.ToArray();
    }

    /// <summary>The gzip'd JSON of `application/tlsrpt+gzip` (RFC 8460 §5.3, §6.4).</summary>
    public static byte[] Gzip(TlsRptReport report)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(Serialize(report));
        return buffer.ToArray();
    }

    private static void Write(Utf8JsonWriter json, TlsRptReport report)
    {
        json.WriteStartObject();
        json.WriteString("organization-name", report.Organization);
        json.WriteStartObject("date-range");
        json.WriteString("start-datetime", report.Start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"));
        json.WriteString("end-datetime", report.End.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"));
        json.WriteEndObject();
        json.WriteString("contact-info", report.Contact);
        json.WriteString("report-id", report.ReportId);
        json.WriteStartArray("policies");
        foreach (var entry in report.Policies) WritePolicy(json, report.Domain, entry);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WritePolicy(Utf8JsonWriter json, string domain, TlsRptPolicyResult entry)
    {
        json.WriteStartObject();
        json.WriteStartObject("policy");
        json.WriteString("policy-type", entry.Policy.Type.ToWire());
        if (entry.Policy.Strings.Count > 0) WriteStrings(json, "policy-string", entry.Policy.Strings);
        json.WriteString("policy-domain", domain);
        if (entry.Policy.MxHosts.Count > 0) WriteStrings(json, "mx-host", entry.Policy.MxHosts);
        json.WriteEndObject();
        json.WriteStartObject("summary");
        json.WriteNumber("total-successful-session-count", entry.Successful);
        json.WriteNumber("total-failure-session-count", entry.Failed);
        json.WriteEndObject();
        if (entry.Failures.Count > 0)
        {
            json.WriteStartArray("failure-details");
            foreach (var failure in entry.Failures)
            {
                json.WriteStartObject();
                json.WriteString("result-type", failure.ResultType.ToWire());
                Optional(json, "sending-mta-ip", failure.SendingIp);
                Optional(json, "receiving-mx-hostname", failure.ReceivingMx);
                Optional(json, "receiving-mx-helo", failure.ReceivingHelo);
                Optional(json, "receiving-ip", failure.ReceivingIp);
                json.WriteNumber("failed-session-count", failure.Count);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }

    private static void Optional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null) json.WriteString(name, value);
    }
}
