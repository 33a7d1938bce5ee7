using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Policy.Certificates;

/// <summary>
/// Matches a peer certificate against reference identifiers the way RFC 7672 §3.2.3 and RFC 6125 ask:
/// DNS subjectAltNames when there are any, the subject CN only when there are none, and a wildcard only
/// as the whole leftmost label ("*.example.com", never "f*.example.com" or "a.*.example.com").
/// Written by hand because X509Certificate2.MatchesHostname has no notion of "any subdomain of"
/// (the `secure` level's ".nexthop") and we need to say which names were tried.
/// </summary>
public static class CertificateNames
{
    private const string SubjectAltNameOid = "2.5.29.17";
    private const string CommonNameOid = "2.5.4.3";

    /// <summary>The DNS names the certificate presents: its DNS SANs, or its CNs when it has no DNS SAN.</summary>
    public static IReadOnlyList<string> Presented(X509Certificate2 certificate)
    {
        var dns = DnsSubjectAltNames(certificate);
        return dns.Count > 0 ? dns : CommonNames(certificate);
    }

    public static IReadOnlyList<string> DnsSubjectAltNames(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAltNameOid) continue;
            try
            {
                var san = new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical);
                names.AddRange(san.EnumerateDnsNames());
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or AsnContentException)
            {
                // A malformed SAN presents no usable names; the certificate then matches nothing.
                return [];
            }
        }
        return names;
    }

    public static IReadOnlyList<string> CommonNames(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements || rdn.GetSingleElementType().Value != CommonNameOid) continue;
            if (rdn.GetSingleElementValue() is { Length: > 0 } value) names.Add(value);
        }
        return names;
    }

    /// <summary>True when any presented name matches any reference identifier.</summary>
    public static bool Matches(X509Certificate2 certificate, IEnumerable<ReferenceIdentifier> references)
    {
        var presented = Presented(certificate);
        return references.Any(r => presented.Any(p => Matches(p, r)));
    }

    public static bool Matches(string presented, ReferenceIdentifier reference)
    {
        var name = ReferenceIdentifier.Normalize(presented);
        if (name.Length == 0 || reference.Name.Length == 0) return false;
        if (name.StartsWith("*.", StringComparison.Ordinal))
        {
            var parent = name[2..];
            // "*.com"-style wildcards (a single label after the star) and any further '*' are refused.
            if (!parent.Contains('.') || parent.Contains('*')) return false;
            if (reference.Subdomains)
                return parent == reference.Name || parent.EndsWith("." + reference.Name, StringComparison.Ordinal);
            var dot = reference.Name.IndexOf('.');
            return dot > 0 && reference.Name[(dot + 1)..] == parent;
        }
        if (name.Contains('*')) return false;
        return reference.Subdomains
            ? name.EndsWith("." + reference.Name, StringComparison.Ordinal)
            : name == reference.Name;
    }
}
