using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Relay.Db;
using Relay.Web.Pages;

namespace Relay.Web.Api;

/// <summary>
/// CSV downloads for spreadsheets. Peer-controlled text can start with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>,
/// tab or CR, which spreadsheet programs run as formulas (CSV injection), so such cells get a leading
/// apostrophe; every cell is quoted.
/// </summary>
public static class CsvExport
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/export/peers.csv", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
        {
            var peers = await db.PeerReader.ListPeersAsync(Filters.Peers(context.Request.Query), new Page(0, Page.MaxLimit), ct);
            return File("peers.csv",
                ["domain", "name", "address", "last_transport", "last_how", "last_reason", "tls_version", "tls_cipher", "spki_sha256", "best_transport",
                 "tlsa_status", "last_seen", "attempts_cleartext", "attempts_encrypted", "attempts_trusted", "attempts_verified"],
                peers.Select(p => new string?[] { p.NextHop, p.Name, p.Address, p.LastTransport, p.LastHow, p.LastReason, p.LastTlsVersion, p.LastTlsCipher,
                    p.LastSpki, p.BestTransport, p.LastTlsaStatus, p.LastSeen.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                    N(p.AttemptsCleartext), N(p.AttemptsEncrypted), N(p.AttemptsTrusted), N(p.AttemptsVerified) }));
        });
        app.MapGet("/export/attempts.csv", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
        {
            var attempts = await db.AttemptReader.ListAttemptsAsync(Layout.Paging(context, Page.MaxLimit), ct);
            return File("attempts.csv",
                ["started", "next_hop", "peer", "address", "stage", "transport", "how", "reason", "policy_level", "tls_version", "tls_cipher", "spki_sha256",
                 "cert_subject", "tlsa_status", "network", "reply"],
                attempts.Select(a => new string?[] { a.StartedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), a.NextHop, a.Peer, a.Address, a.Stage,
                    a.Transport, a.How, a.Reason, a.PolicyLevel, a.TlsVersion, a.TlsCipher, a.Spki, a.CertSubject, a.TlsaStatus, a.Network, a.Reply }));
        });
    }

    /// <summary>One CSV cell, quoted, with formula-leading text neutralised.</summary>
    public static string Cell(string? value)
    {
        var text = value ?? "";
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\n')
            text = "'" + text;
        return "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static IResult File(string name, IReadOnlyList<string> header, IEnumerable<string?[]> rows)
    {
        var csv = new StringBuilder();
        csv.Append(string.Join(',', header.Select(Cell))).Append("\r\n");
        foreach (var row in rows)
            csv.Append(string.Join(',', row.Select(Cell))).Append("\r\n");
        return Results.File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv; charset=utf-8", name);
    }
}
