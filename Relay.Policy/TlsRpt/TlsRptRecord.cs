namespace Relay.Policy.TlsRpt;

/// <summary>What `_smtp._tls.DOMAIN` TXT says: where reports go, or that the domain asks for none (and why).</summary>
public abstract record TlsRptDiscovery
{
    /// <param name="Destinations">The `rua` URIs Relay can use (mailto: and https:), in the record's order.</param>
    /// <param name="Ignored">URIs of other schemes, or malformed ones, each with why; reported in the log, never used.</param>
    public sealed record Wanted(IReadOnlyList<Uri> Destinations, IReadOnlyList<string> Ignored) : TlsRptDiscovery;
    public sealed record NotWanted(string Reason) : TlsRptDiscovery;
}

/// <summary>
/// RFC 8460 §3 TXT records, strictly, with no I/O. Records not starting with `v=TLSRPTv1` are someone else's and dropped;
/// unless exactly one is left ("If the number of resulting records is not one, senders MUST assume the recipient domain
/// does not implement TLSRPT") and it follows the grammar — `v=TLSRPTv1`, `;`-separated fields, exactly one `rua=` with
/// comma-separated URIs (a comma or semicolon inside a URI must be %-encoded), extension fields `name=value` ignored —
/// the domain gets no report. Only `mailto:` and `https:` destinations are defined (§3); any other URI is ignored.
/// </summary>
public static class TlsRptRecord
{
    public const string Version = "v=TLSRPTv1";

    /// <param name="records">Each TXT record's character-strings already joined.</param>
    public static TlsRptDiscovery Parse(IEnumerable<string> records)
    {
        var ours = records.Where(IsOurs).ToList();
        if (ours.Count == 0) return new TlsRptDiscovery.NotWanted("no v=TLSRPTv1 TXT record");
        if (ours.Count > 1) return new TlsRptDiscovery.NotWanted($"{ours.Count} v=TLSRPTv1 TXT records; exactly one is allowed");
        var fields = ours[0].Split(';');
        // A trailing ';' leaves one empty field at the end, which the grammar allows; empty fields elsewhere are malformed.
        var count = fields[^1].Trim(' ', '\t').Length == 0 ? fields.Length - 1 : fields.Length;
        string? rua = null;
        for (var i = 1; i < count; i++)
        {
            var field = fields[i].Trim(' ', '\t');
            var eq = field.IndexOf('=');
            if (eq <= 0) return new TlsRptDiscovery.NotWanted($"TXT field '{field}' is not name=value");
            var (name, value) = (field[..eq], field[(eq + 1)..]);
            if (name.Length > 32 || !char.IsAsciiLetterOrDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
                return new TlsRptDiscovery.NotWanted($"TXT field name '{name}' is malformed");
            if (value.Length == 0 || value.Any(c => c is < '!' or > '~' && c is not (' ' or '\t')))
                return new TlsRptDiscovery.NotWanted($"TXT field '{name}' has an empty value or characters outside printable ASCII");
            if (name != "rua") continue;
            if (rua is not null) return new TlsRptDiscovery.NotWanted("rua appears more than once");
            rua = value;
        }
        if (rua is null) return new TlsRptDiscovery.NotWanted("no rua field");

        var destinations = new List<Uri>();
        var ignored = new List<string>();
        foreach (var part in rua.Split(','))
        {
            var text = part.Trim(' ', '\t');
            if (text.Length == 0) return new TlsRptDiscovery.NotWanted("rua has an empty URI");
            if (text.Any(c => c is ' ' or '\t')) return new TlsRptDiscovery.NotWanted($"rua URI '{text}' contains white space");
            if (Destination(text, out var why) is { } uri) destinations.Add(uri);
            else ignored.Add($"{text}: {why}");
        }
        return destinations.Count == 0
            ? new TlsRptDiscovery.NotWanted("no usable rua URI (" + string.Join("; ", ignored) + ")")
            : new TlsRptDiscovery.Wanted(destinations, ignored);
    }

    private static Uri? Destination(string text, out string why)
    {
        why = "";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) { why = "not an absolute URI"; return null; }
        if (uri.Scheme == Uri.UriSchemeMailto)
        {
            var address = Uri.UnescapeDataString(uri.AbsoluteUri["mailto:".Length..].Split('?')[0]);
            var at = address.LastIndexOf('@');
            if (at <= 0 || at == address.Length - 1 || address.Contains(',') || address.Any(c => c is < '!' or > '~'))
            { why = "not one plain mail address"; return null; }
            return uri;
        }
        if (uri.Scheme == Uri.UriSchemeHttps)
        {
            if (uri.UserInfo.Length > 0) { why = "user information in an https URI"; return null; }
            return uri;
        }
        why = $"scheme {uri.Scheme} is not mailto or https (RFC 8460 §3)";
        return null;
    }

    /// <summary>The address of a `mailto:` destination (RFC 6068: %-decoded, any ?query dropped).</summary>
    public static string MailAddress(Uri mailto) => Uri.UnescapeDataString(mailto.AbsoluteUri["mailto:".Length..].Split('?')[0]);

    /// <summary>tlsrpt-version = %s"v=TLSRPTv1", then the end or *WSP ";".</summary>
    private static bool IsOurs(string record) =>
        record.StartsWith(Version, StringComparison.Ordinal) && record[Version.Length..].TrimStart(' ', '\t') is var rest && (rest.Length == 0 || rest[0] == ';');
}
