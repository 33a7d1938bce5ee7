using System.Globalization;
using Relay.Policy.Planning;

namespace Relay.Policy.Classification;

/// <summary>
/// Classify(plan, what happened) → exactly one transport outcome, its `how` and reason, and each
/// recipient's fate. The only place that decides `verified` (DESIGN.md § Security vocabulary): DANE with
/// a secure peer choice and secure TLSA, `secure`, `fingerprint`, or `verify` with a secure peer choice.
/// Everything unknown is temporary.
/// </summary>
public static class OutcomeClassifier
{
    public static AttemptOutcome Classify(PeerPlan peer, AttemptReport report)
    {
        var (transport, how, reason) = Transport(peer, report);
        var (met, unmet) = Requirement(peer, transport, how, reason);
        var recipients = report.Recipients.Select(r => Recipient(r, met ? null : unmet, report)).ToArray();
        return new AttemptOutcome(transport, how, reason, met, recipients);
    }

    /// <summary>
    /// For `relay check`: the strongest outcome this peer can reach if it behaves (STARTTLS offered, the
    /// required authentication succeeds), and why; null for a peer the plan skips. Uses the same rules as
    /// <see cref="Classify"/>, by classifying the successful attempt the plan asks for.
    /// </summary>
    public static (TransportSecurity Transport, string Why)? Expected(PeerPlan peer)
    {
        if (peer.Mode == PeerMode.Skip) return null;
        if (peer.Mode == PeerMode.Cleartext) return (TransportSecurity.Cleartext, "policy-none");
        PeerAuthentication? auth = peer.Mode switch
        {
            PeerMode.Dane => new PeerAuthentication(AuthenticationMethod.DaneEe, "expected",
                Dane: new Dane.DaneResult(Dane.DaneVerdict.Verified, 3, 0)),
            PeerMode.Pkix => new PeerAuthentication(AuthenticationMethod.Pkix, "expected",
                Pkix: new Certificates.PkixResult(Certificates.PkixVerdict.Verified, "expected")),
            PeerMode.Fingerprint => new PeerAuthentication(AuthenticationMethod.Fingerprint, "expected", PinMatched: "expected"),
            _ => null,
        };
        var outcome = Classify(peer, new AttemptReport("quit", true, true, [], "TLS", Authentication: auth));
        var why = outcome.Transport switch
        {
            TransportSecurity.Encrypted => peer.Mode == PeerMode.Encrypt ? "TLS required, no authentication" : "TLS if offered (cleartext otherwise)",
            TransportSecurity.Trusted => outcome.Reason ?? "authenticated, peer choice not downgrade-resistant",
            _ => $"authenticated by {outcome.How.ToWire()} through a downgrade-resistant channel",
        };
        return (outcome.Transport, why);
    }

    /// <summary>No attempt was possible (DNS failure, no usable peer): every recipient is deferred, or bounced
    /// when the failure cannot change (NXDOMAIN, null MX).</summary>
    public static IReadOnlyList<RecipientDisposition> ForPlanFailure(PlanFailure failure, IEnumerable<string> recipients) =>
        recipients.Select(r => new RecipientDisposition(r, failure.Permanent ? RecipientFate.Bounced : RecipientFate.Deferred, failure.Reason)).ToArray();

    private static (TransportSecurity, AuthenticationMethod, string?) Transport(PeerPlan peer, AttemptReport report)
    {
        if (!report.TlsEstablished)
        {
            var why = peer.Mode == PeerMode.Cleartext ? "policy-none"
                : report.TlsFailure is { } failure ? "tls-handshake-failed: " + failure
                : report.SessionError is { } error && !report.StartTlsOffered ? "no-session: " + error
                : !report.StartTlsOffered ? "starttls-not-offered"
                : "starttls-not-attempted";
            return (TransportSecurity.Cleartext, AuthenticationMethod.None, why);
        }

        var auth = report.Authentication;
        if (auth is not { Authenticated: true })
            return (TransportSecurity.Encrypted, AuthenticationMethod.None, auth?.Detail ?? "peer not authenticated");

        var method = auth.Method;
        // An authentication only counts when the plan provides its basis: DANE needs this peer's secure TLSA
        // set, a pin needs the fingerprint level. Anything else is reported, not believed.
        var backed = method switch
        {
            AuthenticationMethod.DaneEe or AuthenticationMethod.DaneTa => peer.Mode == PeerMode.Dane && peer.TlsaStatus == TlsaStatus.Secure && peer.UsableTlsa.Count > 0,
            AuthenticationMethod.Pkix => true,
            AuthenticationMethod.Fingerprint => peer.Mode == PeerMode.Fingerprint,
            _ => false,
        };
        if (!backed)
            return (TransportSecurity.Encrypted, AuthenticationMethod.None, $"{method.ToWire()} result not backed by the plan ({peer.Mode})");

        var verified = method switch
        {
            AuthenticationMethod.DaneEe or AuthenticationMethod.DaneTa => peer.PeerChoiceIsSecure,
            AuthenticationMethod.Pkix => peer.Mode == PeerMode.Pkix
                && (peer.Level == PolicyLevel.Secure || (peer.Level == PolicyLevel.Verify && peer.PeerChoiceIsSecure)),
            AuthenticationMethod.Fingerprint => true,
            _ => false,
        };
        if (verified) return (TransportSecurity.Verified, method, null);
        var notVerified = method == AuthenticationMethod.Pkix && peer.Mode != PeerMode.Pkix
            ? "pkix-under-opportunistic-policy"
            : "mx-not-dnssec-secure";
        return (TransportSecurity.Trusted, method, notVerified);
    }

    private static (bool Met, string? Unmet) Requirement(PeerPlan peer, TransportSecurity transport, AuthenticationMethod how, string? reason)
    {
        var met = peer.Mode switch
        {
            PeerMode.Cleartext or PeerMode.Opportunistic => true,
            PeerMode.Encrypt => transport >= TransportSecurity.Encrypted,
            PeerMode.Dane => how is AuthenticationMethod.DaneEe or AuthenticationMethod.DaneTa,
            PeerMode.Pkix => how == AuthenticationMethod.Pkix,
            PeerMode.Fingerprint => how == AuthenticationMethod.Fingerprint,
            _ => false,
        };
        return met ? (true, null) : (false, $"policy {peer.EffectiveLevel.ToWire()} not met: {transport.ToWire()}{(reason is null ? "" : " (" + reason + ")")}");
    }

    private static RecipientDisposition Recipient(RecipientReply reply, string? unmet, AttemptReport report)
    {
        if (reply.Code is not { } code)
        {
            var why = unmet ?? report.SessionError ?? $"no reply for this recipient (session ended at {report.Stage})";
            return new RecipientDisposition(reply.Recipient, RecipientFate.Deferred, why);
        }
        var text = code.ToString(CultureInfo.InvariantCulture) + (reply.Text is null ? "" : " " + reply.Text);
        return (code / 100, code) switch
        {
            (2, < 300) => new RecipientDisposition(reply.Recipient, RecipientFate.Delivered, text),
            (4, _) => new RecipientDisposition(reply.Recipient, RecipientFate.Deferred, text),
            (5, < 600) => new RecipientDisposition(reply.Recipient, RecipientFate.Bounced, text),
            // Unknown reply classes are temporary: never bounce on a reply we cannot read.
            _ => new RecipientDisposition(reply.Recipient, RecipientFate.Deferred, "unknown reply class: " + text),
        };
    }
}
