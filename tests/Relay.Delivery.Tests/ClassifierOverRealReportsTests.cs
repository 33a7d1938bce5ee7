using System.Net;
using System.Text;
using Relay.Db;
using Relay.Delivery.Planning;
using Relay.Delivery.Sessions;
using Relay.Policy;
using Relay.Policy.Certificates;
using Relay.Policy.Classification;
using Relay.Policy.Dane;
using Relay.Policy.Planning;
using Relay.Smtp.Client;
using Relay.TestKit.Smtp.Peers;
using Xunit.Abstractions;

namespace Relay.Delivery.Tests;

/// <summary>
/// The classifier's properties over the reports delivery's own session code really builds: every peer behaviour below
/// (scripted peers on loopback, real TLS) is met under every kind of plan with SessionOpener and MessageTransaction, and
/// each real report is then classified under every plan. Verified only through a downgrade-resistant channel, no
/// transport when nothing was sent, every TLS failure with its RFC 8460 result type, unknown replies temporary.
/// </summary>
public sealed class ClassifierOverRealReportsTests(ITestOutputHelper output)
{
    private const string Host = "mx.example.test";
    private static readonly X509Authority Ca = new();

    private sealed class X509Authority
    {
        public readonly System.Security.Cryptography.X509Certificates.X509Certificate2 Root = PeerCertificates.Authority("Real Reports CA");
        public readonly System.Security.Cryptography.X509Certificates.X509Certificate2 Leaf;
        public X509Authority() => Leaf = PeerCertificates.IssuedBy(Root, Host);
    }

    private static IEnumerable<(string Name, PeerScript Script)> Behaviours()
    {
        var good = new PeerScript { Name = Host, Certificate = Ca.Leaf, Chain = [Ca.Root] };
        yield return ("delivers over good TLS", good);
        yield return ("no STARTTLS", good with { OfferStartTls = false });
        yield return ("STARTTLS refused", good with { StartTlsReply = "454 4.7.0 TLS not available" });
        yield return ("handshake broken", good with { BreakHandshake = true });
        yield return ("self-signed", new PeerScript { Name = Host });
        yield return ("injection after STARTTLS", good with { InjectAfterStartTls = "250 injected\r\n" });
        yield return ("greeting 554", good with { Greeting = "554 5.3.2 go away" });
        yield return ("MAIL refused", good with { MailReply = "550 5.7.1 sender refused" });
        yield return ("RCPT unknown class", good with { RcptReply = _ => "650 what" });
        yield return ("RCPT 451", good with { RcptReply = _ => "451 4.3.0 later" });
        yield return ("DATA 554", good with { DataReply = _ => "554 5.6.0 content refused" });
        yield return ("drops at dot", good with { DropAtDot = true });
    }

    private static IEnumerable<PeerPlan> Plans()
    {
        var tlsa = new TlsaAssociation(3, 1, 1, Convert.FromHexString(PeerCertificates.SpkiSha256(Ca.Leaf)));
        PeerPlan Plan(PolicyLevel level, PeerMode mode, MxDnssec mx = MxDnssec.Secure, TlsaStatus status = TlsaStatus.NotQueried) =>
            new(Host, 10, [IPAddress.Loopback], level, mode, mx, AddressDnssec.Secure, status, status == TlsaStatus.Secure ? Host : null,
                status == TlsaStatus.Secure ? [tlsa] : [], mode == PeerMode.Dane ? [tlsa] : [], Host, [new ReferenceIdentifier(Host)],
                mode == PeerMode.Fingerprint ? [PeerCertificates.SpkiSha256(Ca.Leaf).ToUpperInvariant()] : [],
                mode is PeerMode.Opportunistic or PeerMode.Cleartext, $"{level} {mode} {mx}");
        yield return Plan(PolicyLevel.None, PeerMode.Cleartext);
        yield return Plan(PolicyLevel.May, PeerMode.Opportunistic);
        yield return Plan(PolicyLevel.Encrypt, PeerMode.Encrypt);
        yield return Plan(PolicyLevel.Dane, PeerMode.Dane, status: TlsaStatus.Secure);
        yield return Plan(PolicyLevel.Dane, PeerMode.Dane, MxDnssec.Insecure, TlsaStatus.Secure);
        yield return Plan(PolicyLevel.Verify, PeerMode.Pkix);
        yield return Plan(PolicyLevel.Fingerprint, PeerMode.Fingerprint);
    }

    [Fact]
    public async Task Every_real_report_classifies_honestly_under_every_plan()
    {
        var options = Harness.Options() with { Timeouts = Harness.Options().Timeouts with { TlsHandshake = TimeSpan.FromSeconds(5) } };
        // The test CA is the one PKIX root, so `verify` can succeed here exactly as it would against a public CA.
        var authenticator = new PeerAuthenticator(new PkixVerifier([Ca.Root]), TimeProvider.System);
        var reports = new List<(string Behaviour, PeerPlan Plan, AttemptReport Report)>();
        foreach (var (name, script) in Behaviours())
        foreach (var plan in Plans())
        {
            await using var peer = ScriptedSmtpPeer.Start(script);
            var target = new PeerTarget(plan with { Addresses = [peer.EndPoint.Address] }, peer.EndPoint.Address, peer.EndPoint.Port);
            var (session, report) = await SessionOpener.OpenAsync(target, messageRequiresTls: false, authenticator, options, CancellationToken.None);
            if (session is not null)
                await using (session)
                    report = (await MessageTransaction.RunAsync(session, Message(), [Recipient()], CancellationToken.None)).Report;
            else
                report = report with { Recipients = [new RecipientReply(Recipient().Address, null)] };
            reports.Add((name, target.Plan, report));
        }

        var checkedCases = 0;
        foreach (var (behaviour, ownPlan, report) in reports)
        {
            var own = OutcomeClassifier.Classify(ownPlan, report);
            output.WriteLine($"{behaviour,-26} {ownPlan.Why,-30} stage {report.Stage.ToWire(),-8} {own.Transport?.ToWire() ?? "nothing sent",-12} " +
                             $"{own.How.ToWire(),-8} {own.ResultType?.ToWire() ?? "-",-24} {own.Recipients[0].Fate} {own.Reason}");
            // The session's own plan: a TLS failure always carries its result type, and a plan's demand is never given up silently.
            var tlsFailed = report.Tls is { Established: false } || report.StartTlsRefused is not null
                            || (report.EhloAccepted && !report.StartTlsOffered && ownPlan.RequiresTls);
            if (tlsFailed && ownPlan.Mode != PeerMode.Cleartext)
                Assert.True(own.ResultType is not null, $"{behaviour} under {ownPlan.Why}: TLS failed without a result type ({own.Reason})");
            if (ownPlan.RequiresTls && own.Transport is { } t)
                Assert.True(t >= TransportSecurity.Encrypted, $"{behaviour} under {ownPlan.Why}: mail went at {t}");

            foreach (var plan in Plans())
            {
                var outcome = OutcomeClassifier.Classify(plan, report);
                checkedCases++;
                Assert.Equal(!report.MailAccepted, outcome.Transport is null);
                if (outcome.NothingSent) Assert.False(string.IsNullOrEmpty(outcome.Reason), $"{behaviour}: nothing sent without a reason");
                if (outcome.Transport == TransportSecurity.Verified)
                {
                    var auth = report.Tls?.Authentication;
                    Assert.True(report.Tls is { Established: true } && auth is { Authenticated: true }, $"{behaviour}: verified without authentication");
                    var allowed = plan.Mode switch
                    {
                        PeerMode.Dane => plan.TlsaStatus == TlsaStatus.Secure && plan.PeerChoiceIsSecure && auth!.Method is AuthenticationMethod.DaneEe or AuthenticationMethod.DaneTa,
                        PeerMode.Pkix => auth!.Method == AuthenticationMethod.Pkix && (plan.Level == PolicyLevel.Secure || plan.PeerChoiceIsSecure),
                        PeerMode.Fingerprint => auth!.Method == AuthenticationMethod.Fingerprint,
                        _ => false,
                    };
                    Assert.True(allowed, $"{behaviour}: verified under {plan.Why} without a downgrade-resistant channel");
                }
                foreach (var (reply, disposition) in report.Recipients.Zip(outcome.Recipients))
                {
                    var known = reply.Code is >= 200 and < 300 or >= 400 and < 600;
                    if (!known) Assert.Equal(RecipientFate.Deferred, disposition.Fate);
                    if (disposition.Fate == RecipientFate.Delivered) Assert.True(reply.Code is >= 200 and < 300);
                }
            }
        }
        // The walk must have met each kind of result, or its properties would say nothing.
        var outcomes = reports.Select(r => OutcomeClassifier.Classify(r.Plan, r.Report)).ToList();
        Assert.Contains(outcomes, o => o.Transport == TransportSecurity.Verified);
        Assert.Contains(outcomes, o => o.Transport == TransportSecurity.Trusted);
        Assert.Contains(outcomes, o => o.Transport == TransportSecurity.Encrypted);
        Assert.Contains(outcomes, o => o.Transport == TransportSecurity.Cleartext);
        Assert.Contains(outcomes, o => o.NothingSent);
        Assert.Contains(outcomes, o => o.ResultType == TlsRptResult.StartTlsNotSupported);
        Assert.Contains(outcomes, o => o.ResultType == TlsRptResult.ValidationFailure);
        Assert.Contains(outcomes, o => o.ResultType == TlsRptResult.CertificateNotTrusted);
        Assert.True(checkedCases >= 500, $"{checkedCases} cases");
        // A pipelined RCPT reply that breaks the session comes after MAIL was accepted: a transaction began, so the
        // attempt has a transport, and the recipient without a readable reply is deferred.
        var unreadable = reports.Where(r => r.Behaviour == "RCPT unknown class" && r.Plan.Mode == PeerMode.Opportunistic)
            .Select(r => OutcomeClassifier.Classify(r.Plan, r.Report)).Single();
        Assert.NotNull(unreadable.Transport);
        Assert.Equal(RecipientFate.Deferred, unreadable.Recipients[0].Fate);
    }

    private static QueuedMessage Message() => new(1, "0000000000000001", "alice@origin.test", Encoding.ASCII.GetBytes("Subject: real\r\n\r\nreport\r\n"),
        DateTimeOffset.UtcNow, "7BIT", false, false, null, null);

    private static ClaimedRecipient Recipient() => new(1, 1, "0000000000000001", "bob@example.test", "example.test", 0, null, null,
        DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));
}
