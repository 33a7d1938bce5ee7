namespace Relay.Dns;

/// <summary>One CNAME link and whether its CNAME RRset was DNSSEC-secure from a trusted resolver.</summary>
public sealed record DnsCnameLink(string Owner, string Target, bool Secure);

/// <summary>
/// The aliases followed from the name asked to the name answered. RFC 7672 §2.2.2: when every link is
/// secure, TLSA base domains are the expanded name first, then the original; otherwise only the original.
/// </summary>
public sealed class DnsCnameChain
{
    public DnsCnameChain(string originalName, IReadOnlyList<DnsCnameLink> links)
    {
        // Tolerant on purpose: error results for names that are not names still carry a chain.
        OriginalName = DnsName.TryNormalize(originalName, out var n) ? n : originalName;
        Links = links.ToArray();
    }

    public static DnsCnameChain None(string name) => new(name, []);

    public string OriginalName { get; }
    public IReadOnlyList<DnsCnameLink> Links { get; }

    /// <summary>The last target, or the original name when there was no alias.</summary>
    public string ExpandedName => Links.Count == 0 ? OriginalName : Links[^1].Target;

    public bool IsAlias => Links.Count > 0;

    /// <summary>True when there are no links, or every link is secure.</summary>
    public bool AllLinksSecure => Links.All(l => l.Secure);

    /// <summary>Original name, then each target in order.</summary>
    public IReadOnlyList<string> Names => [OriginalName, .. Links.Select(l => l.Target)];

    public override string ToString() => string.Join(" -> ", Names);
}
