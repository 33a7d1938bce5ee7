using Relay.Delivery.Planning;
using Relay.Smtp.Client;

namespace Relay.Delivery.Sessions;

/// <summary>What the transport of one session really was (DESIGN.md § Security vocabulary).</summary>
public sealed record TransportOutcome(string Transport, string How, string? Reason, TlsSessionInfo? Tls)
{
    public static TransportOutcome Cleartext(string reason) => new("cleartext", "none", reason, null);
}

/// <summary>A session that could not be opened (or went away): where, what the peer said, and what transport it had reached.</summary>
public sealed record SessionFailure(string Stage, string Text, ServerReply? Reply, TransportOutcome Transport)
{
    /// <summary>5xx greetings and EHLO refusals are still "try the next MX" (RFC 5321 §5.1); this only tells DSNs and logs apart.</summary>
    public string Status => Reply is { IsPermanent: true } ? Reply.EnhancedStatus ?? "5.0.0" : Reply?.EnhancedStatus ?? "4.4.2";
}

/// <summary>A session ready for MAIL FROM, with its recorded transport outcome.</summary>
public sealed class EstablishedSession(SmtpClientSession client, PeerPlan plan, TransportOutcome transport) : IAsyncDisposable
{
    public SmtpClientSession Client { get; } = client;
    public PeerPlan Plan { get; } = plan;
    public TransportOutcome Transport { get; } = transport;
    public ValueTask DisposeAsync() => Client.DisposeAsync();
}

/// <summary>
/// Connect, greeting, EHLO, STARTTLS per plan, EHLO again. Honest cleartext fallback: for an
/// opportunistic plan a STARTTLS refusal or failed handshake leads to a NEW connection in cleartext,
/// recorded with the reason; a required plan (or a REQUIRETLS message) never falls back. Response
/// injection and a rejected certificate end the attempt with this peer, never in cleartext.
/// </summary>
public static class SessionOpener
{
    public static async Task<(EstablishedSession? Session, SessionFailure? Failure)> OpenAsync(
        PeerPlan plan, bool messageRequiresTls, DeliveryOptions options, CancellationToken cancellationToken)
    {
        var mode = EffectiveMode(plan, messageRequiresTls);
        if (messageRequiresTls && plan.Tls == TlsMode.Never)
            return (null, new SessionFailure(ClientStage.Connect, $"policy {plan.Level} forbids TLS but the message requires TLS (REQUIRETLS)", null,
                TransportOutcome.Cleartext("policy-none")));

        var first = await OpenOnceAsync(plan, mode, fallbackReason: null, options, cancellationToken).ConfigureAwait(false);
        if (first.FallbackReason is null) return (first.Session, first.Failure);
        // The peer refused or broke TLS and the plan allows cleartext: a fresh connection, so nothing
        // from the failed TLS attempt (half-read records, stale capabilities) can leak into this one.
        var second = await OpenOnceAsync(plan, mode, first.FallbackReason, options, cancellationToken).ConfigureAwait(false);
        return (second.Session, second.Failure);
    }

    /// <summary>A REQUIRETLS message (RFC 8689) turns every TLS-capable plan into TLS-or-nothing.</summary>
    internal static TlsMode EffectiveMode(PeerPlan plan, bool messageRequiresTls) =>
        messageRequiresTls && plan.Tls != TlsMode.Never ? TlsMode.Required : plan.Tls;

    private sealed record Opened(EstablishedSession? Session, SessionFailure? Failure, string? FallbackReason);

    private static async Task<Opened> OpenOnceAsync(PeerPlan plan, TlsMode mode, string? fallbackReason, DeliveryOptions options,
        CancellationToken cancellationToken)
    {
        var endpoint = new System.Net.IPEndPoint(plan.Peer.Address, plan.Peer.Port);
        var notYet = TransportOutcome.Cleartext(fallbackReason ?? "session-not-established");
        SmtpClientSession client;
        try
        {
            client = await SmtpClientSession.ConnectAsync(endpoint, options.Timeouts, cancellationToken).ConfigureAwait(false);
        }
        catch (SmtpClientException e)
        {
            return new Opened(null, new SessionFailure(e.Stage, e.Message, null, notYet), null);
        }

        var keep = false;
        try
        {
            var greeting = await client.ReadGreetingAsync(cancellationToken).ConfigureAwait(false);
            if (greeting.Code != 220)
                return Fail(ClientStage.Greeting, greeting, notYet);
            var ehlo = await client.EhloAsync(options.Hostname, cancellationToken).ConfigureAwait(false);
            if (ehlo.Code != 250)
                return Fail(ClientStage.Ehlo, ehlo, notYet);

            if (mode == TlsMode.Never)
            {
                keep = true;
                return Established(TransportOutcome.Cleartext("policy-none"));
            }
            if (fallbackReason is not null)
            {
                keep = true;
                return Established(TransportOutcome.Cleartext(fallbackReason));
            }
            if (!client.Capabilities.StartTls)
            {
                if (mode == TlsMode.Opportunistic)
                {
                    keep = true;
                    return Established(TransportOutcome.Cleartext("starttls-not-offered"));
                }
                return new Opened(null, new SessionFailure(ClientStage.Ehlo,
                    $"STARTTLS not offered; policy {plan.Level} requires TLS", ehlo, TransportOutcome.Cleartext("starttls-not-offered")), null);
            }

            CertificateVerdict? verdict = null;
            var settings = new TlsClientSettings(plan.ServerName, plan.Authenticated, evidence =>
            {
                verdict = plan.Judge.Judge(evidence);
                return new TlsJudgement(verdict.Accept, verdict.Reason);
            });
            ServerReply? refusal;
            try
            {
                refusal = await client.StartTlsAsync(settings, cancellationToken).ConfigureAwait(false);
            }
            catch (SmtpClientException e) when (e.Kind == ClientFailureKind.TlsHandshake && mode == TlsMode.Opportunistic)
            {
                return new Opened(null, null, $"tls-handshake-failed: {e.Message}");
            }
            if (refusal is not null)
            {
                if (mode == TlsMode.Opportunistic)
                    return new Opened(null, null, $"starttls-refused: {refusal}");
                return new Opened(null, new SessionFailure(ClientStage.StartTls, $"STARTTLS refused; policy {plan.Level} requires TLS",
                    refusal, TransportOutcome.Cleartext("starttls-refused")), null);
            }

            var tlsInfo = client.Tls!;
            // The platform never asked the judge: nothing was checked, so nothing may be claimed or required.
            if (verdict is null && plan.Authenticated)
                return new Opened(null, new SessionFailure(ClientStage.Tls, "the peer certificate was never checked", null,
                    new TransportOutcome("encrypted", "none", "certificate-not-checked", tlsInfo)), null);
            var outcome = verdict is null
                ? new TransportOutcome("encrypted", "none", "certificate-not-checked", tlsInfo)
                : new TransportOutcome(verdict.Transport, verdict.How, verdict.Reason, tlsInfo);
            var again = await client.EhloAsync(options.Hostname, cancellationToken).ConfigureAwait(false);
            if (again.Code != 250)
                return Fail(ClientStage.Ehlo, again, outcome);
            keep = true;
            return Established(outcome);
        }
        catch (SmtpClientException e)
        {
            var transport = client.Tls is { } info ? new TransportOutcome("encrypted", "none", null, info) : notYet;
            if (e.Kind == ClientFailureKind.CertificateRejected)
                transport = TransportOutcome.Cleartext($"tls-certificate-rejected: {e.Message}");
            return new Opened(null, new SessionFailure(e.Stage, e.Message, null, transport), null);
        }
        finally
        {
            if (!keep) await client.DisposeAsync().ConfigureAwait(false);
        }

        Opened Established(TransportOutcome outcome) => new(new EstablishedSession(client, plan, outcome), null, null);
        static Opened Fail(string stage, ServerReply reply, TransportOutcome transport) =>
            new(null, new SessionFailure(stage, reply.ToString(), reply, transport), null);
    }
}
