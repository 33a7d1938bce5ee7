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
