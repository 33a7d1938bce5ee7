using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Relay.Policy.Certificates;

namespace Relay.Policy.Dane;

/// <summary>
/// The body of `relay dane verify`: parse "U S M HEX" records, a PEM chain (leaf first) and reference
/// names, run <see cref="DaneVerifier"/> — the same code delivery runs — and render the answer.
/// Exit 0 only for verified, 1 for any other verdict, 2 for bad input (the message names the value).
/// No I/O: the caller reads the file.
/// </summary>
public static class DaneVerifyTool
{
    public sealed record Output(int ExitCode, string Stdout, string? Stderr);

    public static Output Run(IReadOnlyList<string> tlsa, string pemText, string chainName, IReadOnlyList<string> names, bool json, DateTimeOffset now)
    {
        var records = new List<TlsaAssociation>();
        foreach (var text in tlsa)
        {
            if (!TlsaAssociation.TryParse(text, out var record, out var error)) return Bad(error!);
            records.Add(record!);
        }
        if (records.Count == 0) return Bad("at least one --tlsa \"USAGE SELECTOR MATCHING-TYPE HEX\" is needed");
        var references = new List<ReferenceIdentifier>();
        foreach (var name in names)
        {
            if (!Relay.Dns.DnsName.TryNormalize(name, out _) || name.Trim().Trim('.').Length == 0) return Bad($"--name '{name}' is not a domain name");
            references.Add(new ReferenceIdentifier(name));
        }
        if (references.Count == 0) return Bad("--name BASE is needed (the TLSA base domain)");

        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(pemText);
        }
        catch (CryptographicException e)
        {
            return Bad($"'{chainName}' is not a PEM certificate chain: {e.Message}");
        }
        if (chain.Count == 0) return Bad($"'{chainName}' holds no PEM certificate (expected -----BEGIN CERTIFICATE----- blocks, leaf first)");

        var result = DaneVerifier.Verify(records, rrsetSecure: true, chain.Cast<X509Certificate2>().ToArray(), references, now);
        var exit = result.IsVerified ? 0 : 1;
        return new Output(exit, json ? Json(result) + "\n" : Text(result) + "\n", null);
    }

    public static string Json(DaneResult result)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("result", DaneResult.ToWire(result.Verdict));
            if (result.Usage is { } usage) w.WriteNumber("usage", usage); else w.WriteNull("usage");
            if (result.Depth is { } depth) w.WriteNumber("depth", depth); else w.WriteNull("depth");
            if (result.Matched is { } matched) w.WriteString("tlsa", matched.ToString());
            if (result.Detail is { } detail) w.WriteString("detail", detail);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string Text(DaneResult result) => result.IsVerified
        ? string.Create(CultureInfo.InvariantCulture,
            $"verified: {(result.Usage == 3 ? "DANE-EE(3)" : "DANE-TA(2)")} record {result.Matched} matched at depth {result.Depth}")
        : $"{DaneResult.ToWire(result.Verdict)}: {result.Detail}";

    private static Output Bad(string message) => new(2, "", "relay dane verify: " + message);
}
