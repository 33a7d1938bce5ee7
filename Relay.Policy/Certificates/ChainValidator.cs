using System.Security.Cryptography.X509Certificates;

namespace Relay.Policy.Certificates;

/// <summary>
/// Builds and checks a chain from the leaf to one of the given anchors with .NET's X509Chain (signatures,
/// CA constraints, path length, dates). Revocation is not checked: SMTP peers rarely publish it and a
/// network fetch in the middle of a handshake is not something we want (Postfix does not either).
/// </summary>
public static class ChainValidator
{
    /// <param name="anchors">Trust anchors; null means the operating system's roots.</param>
    /// <param name="ignoreAnchorDates">DANE-TA: the anchor is trusted because DNSSEC published it, so its own
    /// validity dates do not matter (RFC 7671 §5.2.2); every certificate below it must be in date.</param>
    public static bool Validate(X509Certificate2 leaf, IEnumerable<X509Certificate2> intermediates,
        X509Certificate2Collection? anchors, DateTimeOffset now, bool ignoreAnchorDates, out X509Certificate2? anchorReached, out string detail)
    {
        anchorReached = null;
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        if (anchors is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        }
        foreach (var c in intermediates) chain.ChainPolicy.ExtraStore.Add(c);

        try
        {
            chain.Build(leaf);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            // A certificate that loads but cannot be processed (seen by the fuzzer: a damaged public key makes
            // OpenSSL fail "unable to get certs public key") is a peer's bad chain, not our crash.
            detail = $"no chain could be built: {e.Message}";
            return false;
        }
        var elements = chain.ChainElements;
        if (elements.Count == 0)
        {
            detail = "no chain could be built";
            return false;
        }
        var anchorIndex = anchors is null ? elements.Count - 1 : -1;
        for (var i = 0; anchors is not null && i < elements.Count && anchorIndex < 0; i++)
            if (anchors.Cast<X509Certificate2>().Any(a => a.RawData.AsSpan().SequenceEqual(elements[i].Certificate.RawData)))
                anchorIndex = i;
        if (anchorIndex < 0)
        {
            detail = $"chain ends at {elements[^1].Certificate.Subject} and does not reach the trust anchor";
            return false;
        }
        var problems = new List<string>();
        // Elements above the anchor (a root the server also sent) are not our business.
        for (var i = 0; i <= anchorIndex; i++)
        {
            var isAnchor = i == anchorIndex;
            foreach (var status in elements[i].ChainElementStatus)
            {
                var flag = status.Status;
                if (flag == X509ChainStatusFlags.NoError) continue;
                if (isAnchor && ignoreAnchorDates && flag == X509ChainStatusFlags.NotTimeValid) continue;
                // A custom anchor that is not self-signed (an intermediate published as DANE-TA) ends the
                // chain "partially" by construction; that is success once the anchor is reached.
                if (isAnchor && anchors is not null && flag is X509ChainStatusFlags.PartialChain or X509ChainStatusFlags.UntrustedRoot) continue;
                if (flag is X509ChainStatusFlags.RevocationStatusUnknown or X509ChainStatusFlags.OfflineRevocation) continue;
                problems.Add($"depth {i} {elements[i].Certificate.Subject}: {flag}");
            }
        }
        // .NET does not always flag the dates of a custom trust anchor (seen on Linux with a non-self-signed
        // one), so the anchor's dates are checked here explicitly.
        var anchorCert = elements[anchorIndex].Certificate;
        if (!ignoreAnchorDates && (now.UtcDateTime < anchorCert.NotBefore.ToUniversalTime() || now.UtcDateTime > anchorCert.NotAfter.ToUniversalTime()))
            problems.Add($"depth {anchorIndex} {anchorCert.Subject}: trust anchor outside its validity period");
        if (problems.Count > 0)
        {
            detail = string.Join("; ", problems.Distinct());
            return false;
        }
        var top = elements[anchorIndex].Certificate;
        anchorReached = top;
        detail = $"chain of {anchorIndex + 1} to {top.Subject}";
        return true;
    }
}
