using System.Net;
using Relay.Smtp.Server;

namespace Relay.Inbound;

public enum RecipientAccess { Hosted, Relay, RelayDenied, UnknownUser }

/// <summary>
/// Who may send where (Postfix's reject_unauth_destination with allow_untrusted_routing = no).
/// Hosted domains are open to everyone, except addresses that carry their own routing — the percent
/// hack (<c>a%b@hosted</c>), bang paths (<c>b!a@hosted</c>) and quoted local parts hiding a domain
/// (<c>"a@b"@hosted</c>) — because a downstream MTA could honour that routing. Address literals and
/// <c>localhost</c> are never hosted. Anything else needs a trusted network or an authenticated session.
/// </summary>
public sealed class RelayAccess
{
    private readonly HashSet<string> _domains;
    private readonly IReadOnlyList<IPNetwork> _trusted;
    private readonly Dictionary<string, HashSet<string>> _recipients;

    public RelayAccess(IEnumerable<string> domains, IEnumerable<string> trustedNetworks, IDictionary<string, IList<string>>? recipients = null)
    {
        _domains = new HashSet<string>(domains.Select(d => d.Trim().TrimEnd('.')), StringComparer.OrdinalIgnoreCase);
        _trusted = trustedNetworks.Select(ParseNetwork).ToList();
        _recipients = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (domain, list) in recipients ?? new Dictionary<string, IList<string>>())
            _recipients[domain.TrimEnd('.')] = new HashSet<string>(list, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<string> Domains => _domains;

    public static IPNetwork ParseNetwork(string cidr)
    {
        var text = cidr.Trim();
        if (!text.Contains('/'))
            text += IPAddress.Parse(text).AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? "/32" : "/128";
        return IPNetwork.Parse(text);
    }

    public bool IsTrusted(IPAddress client)
    {
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        return _trusted.Any(n => n.Contains(client));
    }

    public bool IsHostedDomain(string? domain) =>
        domain is not null && !domain.StartsWith('[') && !IsLocalhost(domain) && _domains.Contains(domain);

    public RecipientAccess Decide(Mailbox recipient, IPAddress client, bool authenticated)
    {
        var mayRelay = authenticated || IsTrusted(client);
        if (recipient.Domain is null) return RecipientAccess.Hosted; // <postmaster> (RFC 5321 §4.5.1)
        var local = recipient.LocalPartValue;
        var routing = local.IndexOfAny(['%', '!', '@']) >= 0;
        if (IsHostedDomain(recipient.Domain) && !routing)
        {
            if (_recipients.TryGetValue(recipient.Domain, out var list) && !list.Contains($"{local}@{recipient.Domain}")
                && !local.Equals("postmaster", StringComparison.OrdinalIgnoreCase))
                return RecipientAccess.UnknownUser;
            return RecipientAccess.Hosted;
        }
        return mayRelay ? RecipientAccess.Relay : RecipientAccess.RelayDenied;
    }

    private static bool IsLocalhost(string domain) =>
        domain.Equals("localhost", StringComparison.OrdinalIgnoreCase) || domain.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || domain.Equals("localhost.localdomain", StringComparison.OrdinalIgnoreCase);
}
