using System.Security.Cryptography.X509Certificates;

namespace Relay.Policy.Certificates;

public enum PkixVerdict { Verified, ChainInvalid, Expired, NameMismatch, NoCertificate }

public sealed record PkixResult(PkixVerdict Verdict, string Detail)
{
    public bool IsVerified => Verdict == PkixVerdict.Verified;
}

/// <summary>
/// WebPKI authentication for `verify` and `secure` (and for recording `trusted` under `may`): the chain
/// to a trusted root, dates, then the names. <paramref name="roots"/> null means the system's roots.
/// </summary>
public sealed class PkixVerifier(X509Certificate2Collection? roots = null)
{
    public PkixResult Verify(IReadOnlyList<X509Certificate2> presented, IReadOnlyList<ReferenceIdentifier> referenceNames, DateTimeOffset now)
    {
        if (presented.Count == 0) return new PkixResult(PkixVerdict.NoCertificate, "the server presented no certificate");
        var leaf = presented[0];
        // Told apart from other chain problems because TLS reports name it (RFC 8460 certificate-expired).
        if (now.UtcDateTime < leaf.NotBefore.ToUniversalTime() || now.UtcDateTime > leaf.NotAfter.ToUniversalTime())
            return new PkixResult(PkixVerdict.Expired, $"leaf {leaf.Subject} is valid {leaf.NotBefore.ToUniversalTime():u} to {leaf.NotAfter.ToUniversalTime():u}");
        if (!ChainValidator.Validate(leaf, presented.Skip(1), roots, now, ignoreAnchorDates: false, out _, out var detail))
            return new PkixResult(PkixVerdict.ChainInvalid, detail);
        if (!CertificateNames.Matches(leaf, referenceNames))
            return new PkixResult(PkixVerdict.NameMismatch,
                $"leaf names [{string.Join(", ", CertificateNames.Presented(leaf))}] match none of [{string.Join(", ", referenceNames)}]");
        return new PkixResult(PkixVerdict.Verified, detail);
    }
}
