using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Relay.Policy.Certificates;

namespace Relay.Policy.Dane;

/// <summary>
/// RFC 7672 §3 certificate verification: the code delivery calls from its TLS validation callback and
/// `relay dane verify` calls on a PEM file. Pure apart from .NET's chain building (no network: downloads
/// and revocation are off).
/// </summary>
public static class DaneVerifier
{
    /// <param name="records">The TLSA RRset of the TLSA base domain.</param>
    /// <param name="rrsetSecure">DNSSEC-secure from a trusted validating resolver; anything else is unusable (RFC 7672 §2.2).</param>
    /// <param name="presented">The chain the server sent, leaf first.</param>
    /// <param name="referenceNames">For DANE-TA: the TLSA base domain, plus the next-hop domain (and its
    /// CNAME-expanded form) when the MX RRset was secure. DANE-EE ignores names.</param>
    public static DaneResult Verify(IEnumerable<TlsaAssociation> records, bool rrsetSecure, IReadOnlyList<X509Certificate2> presented,
        IReadOnlyList<ReferenceIdentifier> referenceNames, DateTimeOffset now)
    {
        var usable = rrsetSecure ? TlsaUsability.Usable(records) : [];
        if (usable.Count == 0) return new DaneResult(DaneVerdict.NoUsableTlsa, Detail: rrsetSecure ? "no DANE-TA/DANE-EE record with known selector and matching type" : "TLSA RRset not DNSSEC-secure");
        if (presented.Count == 0) return new DaneResult(DaneVerdict.NoMatch, Detail: "the server presented no certificate");
        var leaf = presented[0];

        // DANE-EE(3): the leaf alone; no names, no dates, no chain (RFC 7672 §3.1.1).
        foreach (var r in usable.Where(r => r.Usage == TlsaAssociation.UsageDaneEe))
            if (MatchesCertificate(r, leaf))
                return new DaneResult(DaneVerdict.Verified, r.Usage, 0, r);

        // DANE-TA(2): find anchors, then the chain from the leaf must validate up to one of them and the
        // leaf must carry a reference name (RFC 7672 §3.1.2).
        var worst = DaneVerdict.NoMatch;
        var details = new List<string>();
        foreach (var r in usable.Where(r => r.Usage == TlsaAssociation.UsageDaneTa))
        {
            foreach (var (anchor, depth) in AnchorsFor(r, presented).Concat(SignedByKeyOnlyAnchor(r, presented, details)))
            {
                var intermediates = presented.Skip(1).Where(c => !SameCertificate(c, anchor));
                // Anchor dates are checked too, as OpenSSL (and so Postfix) does; RFC 5280 would not require it.
                if (!ChainValidator.Validate(leaf, intermediates, [anchor], now, ignoreAnchorDates: false, out _, out var chainDetail))
                {
                    details.Add($"{r}: {chainDetail}");
                    worst = Worse(worst, DaneVerdict.ChainInvalid);
                    continue;
                }
                if (!CertificateNames.Matches(leaf, referenceNames))
                {
                    details.Add($"{r}: leaf names [{string.Join(", ", CertificateNames.Presented(leaf))}] match none of [{string.Join(", ", referenceNames)}]");
                    worst = Worse(worst, DaneVerdict.NameMismatch);
                    continue;
                }
                return new DaneResult(DaneVerdict.Verified, r.Usage, depth, r);
            }
        }
        return new DaneResult(worst, Detail: details.Count > 0 ? string.Join("; ", details) : "no usable TLSA record matches the presented chain");
    }

    /// <summary>Certificates that the TA record designates: presented ones above the leaf (a leaf never
    /// anchors itself), and for a Full(0) certificate record the certificate in the record itself.</summary>
    private static IEnumerable<(X509Certificate2 Anchor, int Depth)> AnchorsFor(TlsaAssociation record, IReadOnlyList<X509Certificate2> presented)
    {
        var leaf = presented[0];
        for (var depth = 1; depth < presented.Count; depth++)
        {
            var candidate = presented[depth];
            if (SameCertificate(candidate, leaf) || SameKey(candidate, leaf)) continue;
            if (MatchesCertificate(record, candidate)) yield return (candidate, depth);
        }
        if (record is { Selector: TlsaAssociation.SelectorCert, MatchingType: TlsaAssociation.MatchFull })
        {
            X509Certificate2? outOfBand = null;
            try
            {
                outOfBand = X509CertificateLoader.LoadCertificate(record.Data);
            }
            catch (CryptographicException)
            {
                // Not a certificate: the record can still match nothing.
            }
            if (outOfBand is not null && !SameCertificate(outOfBand, leaf) && !SameKey(outOfBand, leaf)
                && !presented.Skip(1).Any(c => SameCertificate(c, outOfBand)))
                yield return (outOfBand, presented.Count);
        }
    }

    /// <summary>
    /// RFC 7671 §5.2.3: a `2 1 0` record publishes the anchor's whole public key, and the server need not send the
    /// anchor's certificate. Each presented certificate the key signed (the chain's top, or the leaf itself when the
    /// key issued it directly) then stands in for the anchor: the chain below it, dates and names included, is validated
    /// as for any anchor, and the anchor sits one above it. A certificate that carries the key itself is an in-chain
    /// anchor (<see cref="AnchorsFor"/>), and a leaf never anchors itself.
    /// </summary>
    private static IEnumerable<(X509Certificate2 Anchor, int Depth)> SignedByKeyOnlyAnchor(TlsaAssociation record,
        IReadOnlyList<X509Certificate2> presented, List<string> details)
    {
        if (record is not { Selector: TlsaAssociation.SelectorSpki, MatchingType: TlsaAssociation.MatchFull }) yield break;
        for (var depth = 0; depth < presented.Count; depth++)
        {
            var candidate = presented[depth];
            if (CertificateDigests.SubjectPublicKeyInfo(candidate).AsSpan().SequenceEqual(record.Data)) continue;
            if (depth > 0 && SameCertificate(candidate, presented[0])) continue;
            switch (CertificateSignature.IsSignedBy(candidate, record.Data, out var why))
            {
                case SignatureCheck.Signed: yield return (candidate, depth + 1); break;
                case SignatureCheck.CannotCheck: details.Add($"{record}: {why}"); break;
            }
        }
    }

    public static bool MatchesCertificate(TlsaAssociation record, X509Certificate2 certificate)
    {
        var data = CertificateDigests.TlsaData(certificate, record.Selector, record.MatchingType);
        return data is not null && CryptographicOperations.FixedTimeEquals(data, record.Data);
    }

    private static bool SameCertificate(X509Certificate2 a, X509Certificate2 b) => a.RawData.AsSpan().SequenceEqual(b.RawData);

    private static bool SameKey(X509Certificate2 a, X509Certificate2 b) =>
        CertificateDigests.SubjectPublicKeyInfo(a).AsSpan().SequenceEqual(CertificateDigests.SubjectPublicKeyInfo(b));

    // When no record verifies, report the furthest any got: a chain that reached an anchor but had the
    // wrong names says more than "no match".
    private static DaneVerdict Worse(DaneVerdict current, DaneVerdict candidate) =>
        Rank(candidate) > Rank(current) ? candidate : current;

    private static int Rank(DaneVerdict v) => v switch
    {
        DaneVerdict.NameMismatch => 2,
        DaneVerdict.ChainInvalid => 1,
        _ => 0,
    };
}
