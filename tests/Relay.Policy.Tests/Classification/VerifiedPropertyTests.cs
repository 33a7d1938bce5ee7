using Relay.Policy.Certificates;
using Relay.Policy.Classification;
using Relay.Policy.Dane;
using Relay.Policy.Planning;
using Relay.Smtp.Client;

namespace Relay.Policy.Tests.Classification;

/// <summary>
/// The property of DESIGN.md § Security vocabulary, over the whole finite space of plans × reports
/// (every level, mode, MX status, TLSA status, TLS or not, every kind of authentication result, true or
/// false): `verified` only through a downgrade-resistant channel, `cleartext` exactly when there was no
/// TLS, and never a stronger outcome than authentication supports.
/// </summary>
public class VerifiedPropertyTests
{
    private static readonly TlsaAssociation Record = new(3, 1, 1, new byte[32]);

    private static IEnumerable<PeerAuthentication?> Authentications()
    {
        yield return null;
        yield return PeerAuthentication.NotAttempted("none");
        foreach (var verdict in Enum.GetValues<DaneVerdict>())
            foreach (var method in Enum.GetValues<AuthenticationMethod>())
                yield return new PeerAuthentication(method, "x", Dane: new DaneResult(verdict, verdict == DaneVerdict.Verified ? 3 : null, 0));
        foreach (var verdict in Enum.GetValues<PkixVerdict>())
            foreach (var method in Enum.GetValues<AuthenticationMethod>())
                yield return new PeerAuthentication(method, "x", Pkix: new PkixResult(verdict, "x"));
        foreach (var method in Enum.GetValues<AuthenticationMethod>())
            yield return new PeerAuthentication(method, "x", PinMatched: "AB");
        yield return new PeerAuthentication(AuthenticationMethod.DaneTa, "x", Dane: new DaneResult(DaneVerdict.Verified, 2, 1));
    }

    [Fact]
    public void Verified_only_through_a_downgrade_resistant_channel()
    {
        var checkedCases = 0;
        var verifiedCases = 0;
        foreach (var level in Enum.GetValues<PolicyLevel>())
        foreach (var mode in Enum.GetValues<PeerMode>())
        foreach (var mx in Enum.GetValues<MxDnssec>())
        foreach (var tlsa in Enum.GetValues<TlsaStatus>())
        foreach (var tls in new[] { false, true })
        foreach (var mailAccepted in new[] { false, true })
        foreach (var auth in Authentications())
        {
            var peer = new PeerPlan("mx.example.com", 10, [], level, mode, mx, AddressDnssec.Secure, tlsa, "mx.example.com",
                tlsa == TlsaStatus.Secure ? [Record] : [], tlsa == TlsaStatus.Secure ? [Record] : [], "mx.example.com",
                [new ReferenceIdentifier("mx.example.com")], ["AB"], false, "property");
            var report = new AttemptReport(ClientStage.Dot, Connected: true, EhloAccepted: true, StartTlsOffered: true,
                Tls: tls ? new TlsFacts(true, auth, Version: "TLSv1.3") : null, MailAccepted: mailAccepted);
            var outcome = OutcomeClassifier.Classify(peer, report);
            checkedCases++;

            // Nothing sent is its own fact, never a transport, and never without its reason.
            Assert.Equal(!mailAccepted, outcome.Transport is null);
            Assert.NotNull(outcome.NothingSent ? outcome.Reason : "sent");
            if (!mailAccepted) continue;
            Assert.Equal(!tls, outcome.Transport == TransportSecurity.Cleartext);
            if (outcome.Transport <= TransportSecurity.Encrypted) Assert.Equal(AuthenticationMethod.None, outcome.How);
            if (outcome.Transport >= TransportSecurity.Trusted)
            {
                Assert.True(auth is { Authenticated: true }, $"{outcome.Transport} without authentication: {level} {mode} {mx} {tlsa} {auth}");
                Assert.Equal(auth!.Method, outcome.How);
            }
            if (outcome.Transport != TransportSecurity.Verified) continue;
            verifiedCases++;
            var secureChoice = mx is MxDnssec.Secure or MxDnssec.Route;
            var allowed = outcome.How switch
            {
                AuthenticationMethod.DaneEe or AuthenticationMethod.DaneTa => auth!.Dane!.IsVerified && mode == PeerMode.Dane && tlsa == TlsaStatus.Secure && secureChoice,
                AuthenticationMethod.Pkix => auth!.Pkix!.IsVerified && mode == PeerMode.Pkix && (level == PolicyLevel.Secure || (level == PolicyLevel.Verify && secureChoice)),
                AuthenticationMethod.Fingerprint => mode == PeerMode.Fingerprint && auth!.PinMatched is not null,
                _ => false,
            };
            Assert.True(allowed, $"verified without a downgrade-resistant channel: level {level}, mode {mode}, MX {mx}, TLSA {tlsa}, how {outcome.How}");
        }
        Assert.True(checkedCases > 20_000);
        Assert.True(verifiedCases > 0, "the space must contain verified outcomes, or the property says nothing");
    }
}
