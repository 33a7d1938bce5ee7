using System.Globalization;
using Relay.Policy.History;
using Relay.Policy.Planning;
using Relay.Smtp.Client;

namespace Relay.Policy.Classification;

/// <summary>
/// Classify(plan, report) → the whole outcome of one attempt: transport (or nothing sent), how, reason, RFC 8460
/// result type and each recipient's fate. The only place that decides these (DESIGN.md § Message flow, step 5), and
/// the only place that decides `verified`: DANE with a secure peer choice and secure TLSA, `secure`, `fingerprint`,
/// or `verify` with a secure peer choice. Everything unknown is temporary. Against the history the plan carries it also
/// flags a possible downgrade and a changed certificate key (<see cref="DowngradeDetector"/>); neither changes the fates.
/// </summary>
public static class OutcomeClassifier
{
    public static AttemptOutcome Classify(PeerPlan peer, AttemptReport report)
    {
        var channel = Channel(peer, report);
        if (!report.MailAccepted)
        {
            // Nothing was sent: no transport, whatever the channel reached; the reason says where and why it stopped.
            var why = report.Error ?? channel.Unmet ?? report.Recipients.FirstOrDefault(r => r.Code is not null)?.Text
                ?? $"the session ended at {report.Stage.ToWire()} before MAIL FROM was accepted";
            return new AttemptOutcome(null, AuthenticationMethod.None, why, channel.ResultType, channel.RequirementMet,
                report.Recipients.Select(r => Recipient(r, report, unmet: channel.Unmet)).ToArray(), report.Network)
                { Downgrade = DowngradeDetector.Detect(peer, report), KeyChanged = DowngradeDetector.KeyChanged(peer, report) };
        }
        var recipients = report.Recipients.Select(r => Recipient(r, report, channel.Unmet)).ToArray();
        return new AttemptOutcome(channel.Transport, channel.How, channel.Reason, channel.ResultType, channel.RequirementMet, recipients, report.Network)
            { Downgrade = DowngradeDetector.Detect(peer, report), KeyChanged = DowngradeDetector.KeyChanged(peer, report) };
    }

    /// <summary>
    /// Whether the network layer lets delivery connect at all (RFC 4322 §3.2): <c>block</c> never, <c>private</c> only over
    /// an IPsec SA; every other class connects and records what the network layer had. The refusal text names the reason.
    /// </summary>
    public static (bool Allowed, string? Refusal) NetworkAllows(NetworkFacts? network) => network switch
    {
        { Class: IpsecClass.Block } => (false, $"ipsec class {IpsecClass.Block.ToWire()}: no connection to this destination"),
        { Class: IpsecClass.Private, HasIpsec: false } n =>
            (false, $"ipsec class {IpsecClass.Private.ToWire()} requires IPsec: {n.Protection.ToWire()} ({n.ReasonText ?? "no reason given"})"),
        _ => (true, null),
    };

    /// <summary>
    /// What the channel reached, whether or not mail followed: the transport a message would be recorded with, and
    /// whether it meets the plan. Delivery asks this before MAIL FROM and sends nothing over a channel that does not.
    /// </summary>
    public static ChannelSecurity Channel(PeerPlan peer, AttemptReport report)
    {
        var (transport, how, reason) = Transport(peer, report);
        var (met, unmet) = Requirement(peer, transport, how, reason);
        return new ChannelSecurity(transport, how, reason, ResultTypes.Of(peer, report, transport), met, unmet);
    }

    /// <summary>
    /// For `relay check`: the strongest outcome this peer can reach if it behaves (STARTTLS offered, the required
    /// authentication succeeds), and why; null for a peer the plan skips. Same rules as <see cref="Classify"/>, by
    /// classifying the successful attempt the plan asks for.
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
        var channel = Channel(peer, new AttemptReport(ClientStage.Ehlo, Connected: true, EhloAccepted: true, StartTlsOffered: true,
            Tls: new TlsFacts(true, auth, Version: "TLS")));
        var why = channel.Transport switch
        {
            TransportSecurity.Encrypted => peer.Mode == PeerMode.Encrypt ? "TLS required, no authentication" : "TLS if offered (cleartext otherwise)",
            TransportSecurity.Trusted => channel.Reason ?? "authenticated, peer choice not downgrade-resistant",
            _ => $"authenticated by {channel.How.ToWire()} through a downgrade-resistant channel",
        };
        return (channel.Transport, why);
    }

    private static (TransportSecurity, AuthenticationMethod, string?) Transport(PeerPlan peer, AttemptReport report)
    {
        if (report.Tls is not { Established: true } tls)
        {
            var why = peer.Mode == PeerMode.Cleartext ? "policy-none"
                : report.Tls is { CertificateRejected: true } rejected ? "tls-certificate-rejected: " + (rejected.Authentication?.Detail ?? rejected.Failure)
                : report.Tls is { Failure: { } failure } ? "tls-handshake-failed: " + failure
                : report.StartTlsRefused is { } refusal ? "starttls-refused: " + refusal
                : !report.EhloAccepted ? "no-session: " + (report.Error ?? $"ended at {report.Stage.ToWire()}")
                : !report.StartTlsOffered ? "starttls-not-offered"
                : "starttls-not-attempted";
            return (TransportSecurity.Cleartext, AuthenticationMethod.None, why);
        }

        var auth = tls.Authentication;
        if (auth is not { Authenticated: true })
            return (TransportSecurity.Encrypted, AuthenticationMethod.None, auth?.Detail ?? "certificate-not-checked");

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

        // RFC 8461 §4.2: under an enforced MTA-STS policy the MX name came from a policy fetched over PKIX-checked HTTPS,
        // so PKIX with that name is downgrade-resistant: `verified`, and `mta-sts` says how.
        if (method == AuthenticationMethod.Pkix && peer is { Mode: PeerMode.Pkix, Sts: StsMode.Enforce })
            return (TransportSecurity.Verified, AuthenticationMethod.MtaSts, null);
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
            PeerMode.Pkix => how is AuthenticationMethod.Pkix or AuthenticationMethod.MtaSts,
            PeerMode.Fingerprint => how == AuthenticationMethod.Fingerprint,
            _ => false,
        };
        return met ? (true, null) : (false, $"{peer.TlsRequirer} not met: {transport.ToWire()}{(reason is null ? "" : " (" + reason + ")")}");
    }

    private static RecipientDisposition Recipient(RecipientReply reply, AttemptReport report, string? unmet)
    {
        if (reply.Code is not { } code)
        {
            var why = unmet ?? (report.Error is { } error ? $"{report.Stage.ToWire()}: {error}" : $"no reply for this recipient (session ended at {report.Stage.ToWire()})");
            // A session lost after the peer got some of the message is RFC 1047's window; 4.4.2 either way.
            return new RecipientDisposition(reply.Recipient, RecipientFate.Deferred, "4.4.2", why);
        }
        var text = reply.Text ?? code.ToString(CultureInfo.InvariantCulture);
        var status = reply.EnhancedStatus ?? $"{code / 100}.0.0";
        return (code / 100, code) switch
        {
            (2, < 300) => new RecipientDisposition(reply.Recipient, RecipientFate.Delivered, status, text),
            (4, _) => new RecipientDisposition(reply.Recipient, RecipientFate.Deferred, status, text),
            (5, < 600) => new RecipientDisposition(reply.Recipient, RecipientFate.Bounced, status, text),
            // Unknown reply classes are temporary: never bounce on a reply we cannot read.
            _ => new RecipientDisposition(reply.Recipient, RecipientFate.Deferred, "4.0.0", "unknown reply class: " + text),
        };
    }
}
