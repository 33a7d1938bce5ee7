using Relay.Delivery.Planning;
using Relay.Policy;
using Relay.Policy.Classification;
using Relay.Policy.Planning;
using Relay.Smtp.Client;

namespace Relay.Delivery.Sessions;

/// <summary>
/// Connect, greeting, EHLO, STARTTLS per plan, EHLO again, writing down what happened in an <see cref="AttemptReport"/>;
/// Relay.Policy judges the certificate in the handshake and the channel afterwards. Honest cleartext fallback: for an
/// opportunistic plan a STARTTLS refusal or failed handshake leads to a NEW connection in cleartext, whose report
/// carries the TLS problem; a required plan (or a REQUIRETLS message) never falls back. Response injection and a
/// rejected certificate end the attempt with this peer, never in cleartext.
/// </summary>
public static class SessionOpener
{
    /// <summary>How STARTTLS is used with one peer on this attempt.</summary>
    private enum TlsMode { Never, Opportunistic, Required }

    /// <param name="network">What the network layer had for this peer (the IPsec sidecar's facts), carried in every report.</param>
    /// <returns>The session, or null and the report of where and why opening it failed (nothing was sent).</returns>
    public static async Task<(EstablishedSession? Session, AttemptReport Report)> OpenAsync(PeerTarget target, bool messageRequiresTls,
        PeerAuthenticator authenticator, DeliveryOptions options, CancellationToken cancellationToken, NetworkFacts? network = null)
    {
        // `private` without an SA, or `block`: not one packet of SMTP goes to this peer (RFC 4322 §3.2).
        if (OutcomeClassifier.NetworkAllows(network) is { Allowed: false, Refusal: var refusal })
            return (null, new AttemptReport(ClientStage.Connect, Error: refusal, Network: network));
        var (session, report) = await OpenPlannedAsync(target, messageRequiresTls, authenticator, options, cancellationToken).ConfigureAwait(false);
        if (network is null) return (session, report);
        report = report with { Network = network };
        return session is null ? (null, report) : (new EstablishedSession(session.Client, session.Target, report, session.Security), report);
    }

    private static async Task<(EstablishedSession? Session, AttemptReport Report)> OpenPlannedAsync(PeerTarget target, bool messageRequiresTls,
        PeerAuthenticator authenticator, DeliveryOptions options, CancellationToken cancellationToken)
    {
        var plan = target.Plan;
        if (messageRequiresTls && !plan.TriesTls)
            return (null, new AttemptReport(ClientStage.Connect,
                Error: $"policy {plan.EffectiveLevel.ToWire()} forbids TLS but the message requires TLS (REQUIRETLS)"));
        // A REQUIRETLS message (RFC 8689) turns every TLS-capable plan into TLS-or-nothing.
        var mode = !plan.TriesTls ? TlsMode.Never
            : plan.CleartextFallbackAllowed && !messageRequiresTls ? TlsMode.Opportunistic
            : TlsMode.Required;

        var requirer = plan.RequiresTls ? plan.TlsRequirer : "the message (REQUIRETLS)";
        var first = await OpenOnceAsync(target, mode, requirer, retryOf: null, authenticator, options, cancellationToken).ConfigureAwait(false);
        if (!first.RetryInCleartext) return (first.Session, first.Report);
        // The peer refused or broke TLS and the plan allows cleartext: a fresh connection, so nothing
        // from the failed TLS attempt (half-read records, stale capabilities) can leak into this one.
        var second = await OpenOnceAsync(target, mode, requirer, first.Report, authenticator, options, cancellationToken).ConfigureAwait(false);
        return (second.Session, second.Report);
    }

    private sealed record Opened(EstablishedSession? Session, AttemptReport Report, bool RetryInCleartext = false);

    /// <param name="requirer">Who demands TLS when it is required (the plan's policy, or a REQUIRETLS message), for the operator.</param>
    private static async Task<Opened> OpenOnceAsync(PeerTarget target, TlsMode mode, string requirer, AttemptReport? retryOf, PeerAuthenticator authenticator,
        DeliveryOptions options, CancellationToken cancellationToken)
    {
        var plan = target.Plan;
        var report = retryOf is null
            ? new AttemptReport(ClientStage.Connect)
            : new AttemptReport(ClientStage.Connect, CleartextRetry: true, StartTlsRefused: retryOf.StartTlsRefused, Tls: retryOf.Tls);
        SmtpClientSession client;
        try
        {
            client = await SmtpClientSession.ConnectAsync(target.EndPoint, options.Timeouts, cancellationToken).ConfigureAwait(false);
        }
        catch (SmtpClientException e)
        {
            return new Opened(null, report with { Stage = e.Stage, Error = e.Message });
        }

        var keep = false;
        try
        {
            report = report with { Connected = true, Stage = ClientStage.Greeting, LocalAddress = client.LocalEndPoint.Address.ToString() };
            var greeting = await client.ReadGreetingAsync(cancellationToken).ConfigureAwait(false);
            if (greeting.Code != 220) return Refused(report, greeting);
            report = report with { Stage = ClientStage.Ehlo };
            var ehlo = await client.EhloAsync(options.Hostname, cancellationToken).ConfigureAwait(false);
            if (ehlo.Code != 250) return Refused(report, ehlo);
            report = report with { EhloAccepted = true, StartTlsOffered = client.Capabilities.StartTls, PeerHelo = HeloName(ehlo) };

            if (mode == TlsMode.Never || report.CleartextRetry)
                return Established();
            if (!report.StartTlsOffered)
                return mode == TlsMode.Opportunistic
                    ? Established()
                    : new Opened(null, report with { Error = $"STARTTLS not offered; {requirer} requires TLS" });

            report = report with { Stage = ClientStage.StartTls };
            PeerAuthentication? authentication = null;
            var settings = new TlsClientSettings(plan.Sni, plan.RequiresAuthentication, evidence =>
            {
                // The one question the handshake asks: may this certificate be used for this peer's mail?
                var (found, accept) = authenticator.Authenticate(plan, evidence.Presented);
                authentication = found;
                return new TlsJudgement(accept, found.Detail);
            });
            ServerReply? refusal;
            try
            {
                refusal = await client.StartTlsAsync(settings, cancellationToken).ConfigureAwait(false);
            }
            catch (SmtpClientException e) when (e.Kind is ClientFailureKind.TlsHandshake or ClientFailureKind.CertificateRejected)
            {
                var rejected = e.Kind == ClientFailureKind.CertificateRejected;
                report = report with { Stage = e.Stage, Tls = new TlsFacts(false, authentication, rejected, e.Message), Error = e.Message };
                return new Opened(null, report, RetryInCleartext: !rejected && mode == TlsMode.Opportunistic);
            }
            if (refusal is not null)
            {
                report = report with { StartTlsRefused = refusal.ToString() };
                return mode == TlsMode.Opportunistic
                    ? new Opened(null, report, RetryInCleartext: true)
                    : new Opened(null, report with { Error = $"STARTTLS refused; {requirer} requires TLS", ErrorReply = refusal });
            }

            var info = client.Tls!;
            report = report with
            {
                Stage = ClientStage.Tls,
                Tls = new TlsFacts(true, authentication, Version: info.Version, Cipher: info.Cipher, PeerSpki: info.SpkiSha256,
                    PeerSubject: info.Subject, PeerChain: info.ChainSummary),
            };
            // E.g. the platform never asked for the certificate: nothing was checked, so a plan that needs a check gets nothing.
            if (OutcomeClassifier.Channel(plan, report) is { RequirementMet: false } unmet)
                return new Opened(null, report with { Error = unmet.Unmet });
            report = report with { Stage = ClientStage.Ehlo };
            var again = await client.EhloAsync(options.Hostname, cancellationToken).ConfigureAwait(false);
            if (again.Code != 250) return Refused(report, again);
            return Established();
        }
        catch (SmtpClientException e)
        {
            return new Opened(null, report with { Stage = e.Stage, Error = e.Message });
        }
        finally
        {
            if (!keep) await client.DisposeAsync().ConfigureAwait(false);
        }

        Opened Established()
        {
            keep = true;
            return new Opened(new EstablishedSession(client, target, report, OutcomeClassifier.Channel(plan, report)), report);
        }
    }

    /// <summary>The first word of the EHLO (or HELO) reply's first line, the name the server calls itself (RFC 5321 §4.1.1.1);
    /// null unless it is printable ASCII no longer than a DNS name.</summary>
    private static string? HeloName(ServerReply ehlo) =>
        ehlo.Lines.Count > 0 && ehlo.Lines[0].Split(' ', 2)[0] is { Length: > 0 and <= 253 } name && name.All(c => c is > ' ' and < '\x7f') ? name : null;

    private static Opened Refused(AttemptReport report, ServerReply reply) => new(null, report with { Error = reply.ToString(), ErrorReply = reply });
}
