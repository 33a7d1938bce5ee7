using System.Security.Cryptography.X509Certificates;
using Relay.Dns;
using Relay.Policy.Certificates;

namespace Relay.Policy.Dane;

/// <summary>What our own published TLSA RRset means for senders that use DANE with our certificate.</summary>
public enum OwnTlsaVerdict
{
    /// <summary>A DNSSEC-secure RRset that our certificate matches: DANE senders verify us.</summary>
    Matches,
    /// <summary>A DNSSEC-secure RRset that our certificate does not match: DANE senders defer our mail (the classic outage after a rotation).</summary>
    Mismatch,
    /// <summary>Secure proof that no TLSA RRset exists: DANE does not apply, nothing breaks.</summary>
    NotPublished,
    /// <summary>The zone is not signed (or not validated): DANE senders ignore the records.</summary>
    Insecure,
    /// <summary>The answer failed validation: DANE senders defer our mail.</summary>
    Bogus,
    /// <summary>The lookup failed: nothing is known.</summary>
    Error,
}

/// <summary>The verdict, the owner name asked, and what an operator needs to read.</summary>
public sealed record OwnTlsaResult(OwnTlsaVerdict Verdict, string Owner, string Detail)
{
    /// <summary>Mismatch, bogus and a failed lookup are problems to warn about; the rest are not.</summary>
    public bool IsProblem => Verdict is OwnTlsaVerdict.Mismatch or OwnTlsaVerdict.Bogus or OwnTlsaVerdict.Error;

    public string VerdictWord => OwnTlsaCheck.ToWire(Verdict);
}

/// <summary>
/// Does the TLSA RRset published for our own hostname still match the certificate we present? Judged as a DANE sender
/// judges us (RFC 7672 §3, with <see cref="DaneVerifier"/>): only a DNSSEC-secure RRset counts, DANE-EE(3) against
/// the leaf, DANE-TA(2) against our chain. No I/O: the caller asks DNS and passes the answer.
/// </summary>
public static class OwnTlsaCheck
{
    /// <summary>The owner name of our TLSA records (RFC 6698 §3, port 25 over TCP).</summary>
    public static string Owner(string hostname) => $"_25._tcp.{hostname.TrimEnd('.').ToLowerInvariant()}";

    /// <summary>The DANE-EE SPKI SHA-256 record (3 1 1) for the certificate, RFC 7671 § 5.1's recommendation.</summary>
    public static TlsaAssociation Record(X509Certificate2 certificate) =>
        new(TlsaAssociation.UsageDaneEe, TlsaAssociation.SelectorSpki, TlsaAssociation.MatchSha256,
            CertificateDigests.TlsaData(certificate, TlsaAssociation.SelectorSpki, TlsaAssociation.MatchSha256)!);

    /// <param name="answer">The TLSA answer for <see cref="Owner"/> from a trusted validating resolver.</param>
    /// <param name="chain">Our certificate chain, leaf first, as the listener presents it.</param>
    public static OwnTlsaResult Judge(string hostname, DnsResult answer, IReadOnlyList<X509Certificate2> chain, DateTimeOffset now)
    {
        var owner = Owner(hostname);
        switch (answer)
        {
            case DnsResult.Secure secure:
            {
                var records = secure.RecordsOf<TlsaRecord>().Select(TlsaAssociation.From).ToList();
                var ours = Record(chain[0]);
                var result = DaneVerifier.Verify(records, rrsetSecure: true, chain, [new ReferenceIdentifier(hostname)], now);
                var published = string.Join(", ", records.Select(r => r.ToString()));
                return result.IsVerified
                    ? new OwnTlsaResult(OwnTlsaVerdict.Matches, owner, $"our certificate matches {result.Matched} (published: {published})")
                    : new OwnTlsaResult(OwnTlsaVerdict.Mismatch, owner,
                        $"our certificate ({ours}) matches none of the published records ({published}): {result.Detail}; DANE senders will defer mail to us");
            }
            case DnsResult.NxDomain { IsSecure: true } or DnsResult.NoData { IsSecure: true }:
                return new OwnTlsaResult(OwnTlsaVerdict.NotPublished, owner, "no TLSA records published (DNSSEC-secure denial): DANE does not apply");
            case DnsResult.Bogus bogus:
                return new OwnTlsaResult(OwnTlsaVerdict.Bogus, owner, $"the TLSA answer fails DNSSEC validation ({bogus}); DANE senders will defer mail to us");
            case DnsResult.Error error:
                return new OwnTlsaResult(OwnTlsaVerdict.Error, owner, $"TLSA lookup failed: {error.Kind}: {error.Reason}");
            default:
                return new OwnTlsaResult(OwnTlsaVerdict.Insecure, owner, $"{answer}: not DNSSEC-secure, so DANE senders ignore it");
        }
    }

    public static string ToWire(OwnTlsaVerdict verdict) => verdict switch
    {
        OwnTlsaVerdict.Matches => "matches",
        OwnTlsaVerdict.Mismatch => "mismatch",
        OwnTlsaVerdict.NotPublished => "not-published",
        OwnTlsaVerdict.Insecure => "insecure",
        OwnTlsaVerdict.Bogus => "bogus",
        OwnTlsaVerdict.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, null),
    };
}
