namespace Relay.Policy.MtaSts;

/// <summary>What `_mta-sts.DOMAIN` TXT says: a policy with this id is on offer, or there is none (and why).</summary>
public abstract record StsDiscovery
{
    public sealed record Available(string Id) : StsDiscovery;
    public sealed record NotAvailable(string Reason) : StsDiscovery;
}

/// <summary>
/// RFC 8461 §3.1 TXT records, with no I/O. Records not starting with `v=STSv1;` are someone else's and dropped; unless
/// exactly one is left and it is well formed (`v=STSv1; id=1*32ALPHA/DIGIT;` with other `key=value` fields ignored),
/// the domain offers no policy (a cached one may still apply).
/// </summary>
public static class StsTxtRecord
{
    /// <param name="records">Each TXT record's character-strings already joined (RFC 7208 §3.3 style).</param>
    public static StsDiscovery Parse(IEnumerable<string> records)
    {
        var ours = records.Where(IsOurs).ToList();
        if (ours.Count == 0) return new StsDiscovery.NotAvailable("no v=STSv1 TXT record");
        if (ours.Count > 1) return new StsDiscovery.NotAvailable($"{ours.Count} v=STSv1 TXT records; exactly one is allowed");
        string? id = null;
        var fields = ours[0].Split(';');
        // A trailing ';' leaves one empty field at the end, which the grammar allows; empty fields elsewhere are malformed.
        var count = fields[^1].Trim(' ', '\t').Length == 0 ? fields.Length - 1 : fields.Length;
        for (var i = 1; i < count; i++)
        {
            var field = fields[i].Trim(' ', '\t');
            var eq = field.IndexOf('=');
            if (eq <= 0) return new StsDiscovery.NotAvailable($"TXT field '{field}' is not key=value");
            var (key, value) = (field[..eq], field[(eq + 1)..]);
            if (!key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') || !char.IsAsciiLetterOrDigit(key[0]))
                return new StsDiscovery.NotAvailable($"TXT field name '{key}' is malformed");
            if (key != "id") continue;
            if (id is not null) return new StsDiscovery.NotAvailable("id appears more than once");
            if (value.Length is 0 or > 32 || !value.All(char.IsAsciiLetterOrDigit))
                return new StsDiscovery.NotAvailable($"id '{value}' is not 1 to 32 letters and digits");
            id = value;
        }
        return id is null ? new StsDiscovery.NotAvailable("no id field") : new StsDiscovery.Available(id);
    }

    /// <summary>sts-version = "v=STSv1", then the end or *WSP ";" (sts-field-delim).</summary>
    private static bool IsOurs(string record) =>
        record.StartsWith("v=STSv1", StringComparison.Ordinal) && record[7..].TrimStart(' ', '\t') is var rest && (rest.Length == 0 || rest[0] == ';');
}
