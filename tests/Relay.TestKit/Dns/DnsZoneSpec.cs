namespace Relay.TestKit.Dns;

/// <summary>
/// One zone of a test DNS world: its records in master-file presentation format (owners relative to the
/// zone or absolute with a trailing dot; "@" is the apex), whether it is signed, and which RRSIGs to break.
/// SOA, apex NS, delegations and DS records are added by the world builder.
/// </summary>
public sealed class DnsZoneSpec
{
    private readonly List<string> _records = [];
    private readonly List<(string Owner, string Type)> _corrupt = [];

    internal DnsZoneSpec(string name, bool signed)
    {
        Name = Absolute(name, ".");
        Signed = signed;
    }

    /// <summary>Absolute, lower case, with trailing dot ("." for the root).</summary>
    public string Name { get; }
    public bool Signed { get; }
    public IReadOnlyList<string> Records => _records;
    public IReadOnlyList<(string Owner, string Type)> CorruptSignatures => _corrupt;

    /// <summary>Adds one record line, e.g. "mx 300 IN A 192.0.2.25" or "_25._tcp.mx TLSA 3 1 1 AB…".</summary>
    public DnsZoneSpec Add(string record)
    {
        if (record.Contains('\n')) throw new ArgumentException("one record per call");
        _records.Add(record);
        return this;
    }

    public DnsZoneSpec Add(params string[] records)
    {
        foreach (var r in records) Add(r);
        return this;
    }

    /// <summary>
    /// After signing, damages the RRSIG covering (<paramref name="owner"/>, <paramref name="type"/>): a validating
    /// resolver then answers SERVFAIL for that query alone (RFC 7672 §2.1.1's trap), the rest stays secure.
    /// </summary>
    public DnsZoneSpec CorruptSignature(string owner, string type)
    {
        if (!Signed) throw new InvalidOperationException($"zone {Name} is unsigned: there is no signature to corrupt");
        _corrupt.Add((Absolute(owner, Name), type.ToUpperInvariant()));
        return this;
    }

    internal static string Absolute(string name, string origin)
    {
        name = name.Trim().ToLowerInvariant();
        if (name is "@" or "") return origin;
        if (name.EndsWith('.')) return name;
        return origin == "." ? name + "." : name + "." + origin;
    }
}
