namespace Relay.Policy.Certificates;

/// <summary>
/// A name the peer certificate must carry (RFC 6125 "reference identifier"). With
/// <see cref="Subdomains"/> set it stands for every name strictly below <see cref="Name"/> (Postfix's
/// "dot-nexthop", written ".example.com"), which is how `secure` accepts mx1.example.com for example.com.
/// </summary>
public sealed record ReferenceIdentifier(string Name, bool Subdomains = false)
{
    /// <summary>Lower-case, no trailing dot: the form certificate names are compared in.</summary>
    public string Name { get; } = Normalize(Name);

    /// <summary>"example.com" is the name itself; ".example.com" means its subdomains.</summary>
    public static ReferenceIdentifier Parse(string text) =>
        text.StartsWith('.') ? new ReferenceIdentifier(text[1..], Subdomains: true) : new ReferenceIdentifier(text);

    public static string Normalize(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();

    public override string ToString() => Subdomains ? "." + Name : Name;
}
