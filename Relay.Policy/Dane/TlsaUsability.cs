namespace Relay.Policy.Dane;

/// <summary>
/// Which TLSA records an SMTP client may use (RFC 7672 §3.1, RFC 7671 §9). Pure.
/// </summary>
public static class TlsaUsability
{
    /// <summary>
    /// Keeps DANE-TA(2)/DANE-EE(3) with a known selector and matching type and data of the right length;
    /// PKIX-TA(0)/PKIX-EE(1) are unusable for SMTP (RFC 7672 §3.1.3). Then digest agility (RFC 7671 §9):
    /// for each usage and selector only the strongest digest published survives, so a downgrade to a
    /// weaker (perhaps broken) digest cannot be forced by whoever can present a collision for it.
    /// Full(0) is not a digest and is kept. Order is preserved.
    /// </summary>
    public static IReadOnlyList<TlsaAssociation> Usable(IEnumerable<TlsaAssociation> records)
    {
        var candidates = records.Where(IsUsable).ToList();
        var strongest = new Dictionary<(byte, byte), int>();
        foreach (var r in candidates.Where(r => r.MatchingType != TlsaAssociation.MatchFull))
        {
            var key = (r.Usage, r.Selector);
            strongest[key] = Math.Max(strongest.GetValueOrDefault(key), Strength(r.MatchingType));
        }
        return candidates
            .Where(r => r.MatchingType == TlsaAssociation.MatchFull || Strength(r.MatchingType) == strongest[(r.Usage, r.Selector)])
            .ToArray();
    }

    public static bool IsUsable(TlsaAssociation record)
    {
        if (record.Usage is not (TlsaAssociation.UsageDaneTa or TlsaAssociation.UsageDaneEe)) return false;
        if (record.Selector is not (TlsaAssociation.SelectorCert or TlsaAssociation.SelectorSpki)) return false;
        // A digest of the wrong length can never match; RFC 7671 §5.3 counts such records as unusable.
        return record.MatchingType switch
        {
            TlsaAssociation.MatchFull => record.Data.Length > 0,
            TlsaAssociation.MatchSha256 => record.Data.Length == 32,
            TlsaAssociation.MatchSha512 => record.Data.Length == 64,
            _ => false,
        };
    }

    // Client preference order: SHA2-512 over SHA2-256 (RFC 7671 §9 leaves the order to the client).
    private static int Strength(byte matchingType) => matchingType switch
    {
        TlsaAssociation.MatchSha256 => 1,
        TlsaAssociation.MatchSha512 => 2,
        _ => 0,
    };
}
