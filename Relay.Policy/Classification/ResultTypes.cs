using Relay.Policy.Certificates;
using Relay.Policy.Dane;
using Relay.Policy.Planning;

namespace Relay.Policy.Classification;

/// <summary>
/// The RFC 8460 §4.3 result type of what went wrong with TLS in one attempt, from the facts alone: null when TLS did
/// what the plan asked (or the plan asked for none). A cleartext retry keeps the type of the TLS failure before it.
/// </summary>
internal static class ResultTypes
{
    public static TlsRptResult? Of(PeerPlan peer, AttemptReport report, TransportSecurity transport)
    {
        var actual = Actual(peer, report, transport);
        return peer is { Sts: StsMode.Testing, StsTesting: { } testing } ? UnderStsTesting(peer, testing, report, actual) : actual;
    }

    /// <summary>
    /// RFC 8461 §5 `testing`: the session went as the underlying plan allowed, but its result type is the failure an
    /// enforced policy would have had (the transport and fates stay those of the real session). First the policy itself
    /// (its fetch failed: that failure's sts-* type), then an MX the patterns do not list (enforcement would not have
    /// used it: no RFC 8460 type names this, so the general `validation-failure`), then what this session really hit,
    /// then what enforcement requires of TLS: version 1.2 or later and PKIX for the MX host name, which the
    /// authenticator checks under every opportunistic plan (its reference identifier is that name).
    /// </summary>
    private static TlsRptResult? UnderStsTesting(PeerPlan peer, MtaSts.StsTestingFacts testing, AttemptReport report, TlsRptResult? actual)
    {
        if (testing.FetchFailure is { } failed) return failed.ResultType;
        if (!testing.MxMatches) return TlsRptResult.ValidationFailure;
        if (actual is not null || report.Tls is not { Established: true } tls) return actual;
        if (tls.Version is "TLSv1" or "TLSv1.1" or "Ssl3" or "Ssl2") return TlsRptResult.ValidationFailure;
        return tls.Authentication is { Authenticated: true, Method: AuthenticationMethod.Pkix } ? null : Certificate(peer, tls.Authentication);
    }

    private static TlsRptResult? Actual(PeerPlan peer, AttemptReport report, TransportSecurity transport)
    {
        if (peer.Mode is PeerMode.Cleartext or PeerMode.Skip) return null;
        if (report.Tls is { } tls)
        {
            if (tls.CertificateRejected) return Certificate(peer, tls.Authentication);
            if (!tls.Established) return TlsRptResult.ValidationFailure;
            // Established but short of what the plan requires (the platform never asked for the certificate).
            return peer.RequiresAuthentication && tls.Authentication is not { Authenticated: true } ? Certificate(peer, tls.Authentication) : null;
        }
        if (report.StartTlsRefused is not null) return TlsRptResult.StartTlsNotSupported;
        return report.EhloAccepted && !report.StartTlsOffered && transport == TransportSecurity.Cleartext ? TlsRptResult.StartTlsNotSupported : null;
    }

    private static TlsRptResult Certificate(PeerPlan peer, PeerAuthentication? auth) => auth switch
    {
        { Dane: { } dane } => dane.Verdict switch
        {
            DaneVerdict.NoMatch or DaneVerdict.NoUsableTlsa => TlsRptResult.TlsaInvalid,
            DaneVerdict.NameMismatch => TlsRptResult.CertificateHostMismatch,
            DaneVerdict.ChainInvalid => TlsRptResult.CertificateNotTrusted,
            _ => TlsRptResult.ValidationFailure,
        },
        { Pkix: { } pkix } => pkix.Verdict switch
        {
            PkixVerdict.NameMismatch => TlsRptResult.CertificateHostMismatch,
            PkixVerdict.Expired => TlsRptResult.CertificateExpired,
            PkixVerdict.ChainInvalid => TlsRptResult.CertificateNotTrusted,
            _ => TlsRptResult.ValidationFailure,
        },
        // A pin that matches nothing: the certificate is not the one this destination is trusted with.
        not null when peer.Mode == PeerMode.Fingerprint && auth.PinMatched is null && auth.PeerSpkiSha256 is not null => TlsRptResult.CertificateNotTrusted,
        _ => TlsRptResult.ValidationFailure,
    };
}
