using System.Security.Cryptography.X509Certificates;

namespace Relay.Delivery.TlsRpt;

/// <param name="Submitter">Relay:Hostname: the TLS-Report-Submitter, the report-id's domain and the MTA named in the filename.</param>
/// <param name="Organization">Relay:TlsRpt:Organization (`organization-name`); the submitter when unset.</param>
/// <param name="Contact">Relay:TlsRpt:Contact (`contact-info`); postmaster@submitter when unset.</param>
/// <param name="TrustAnchors">Relay:Tls:TrustAnchors: what PKIX trusts for an `https:` destination; null: the system store.</param>
public sealed record TlsRptOptions(string Submitter, string? Organization = null, string? Contact = null, X509Certificate2Collection? TrustAnchors = null)
{
    public string OrganizationName => Organization ?? Submitter;
    public string ContactInfo => Contact ?? $"mailto:postmaster@{Submitter}";

    /// <summary>The From (and envelope sender) of mailed reports: the contact when it is a mail address, else postmaster.</summary>
    public string FromAddress
    {
        get
        {
            var contact = ContactInfo.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? ContactInfo[7..] : ContactInfo;
            return contact.Contains('@') && !contact.Any(c => c is ' ' or '<' or '>' or ',' or ':') ? contact : $"postmaster@{Submitter}";
        }
    }

    /// <summary>A claim older than this belongs to a process that died while sending; another may take it over.</summary>
    public TimeSpan ClaimTakeover { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The whole `https:` POST, connect to response.</summary>
    public TimeSpan HttpsTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the delivery role looks for yesterday's reports still to send.</summary>
    public TimeSpan SchedulePoll { get; init; } = TimeSpan.FromMinutes(10);
}
