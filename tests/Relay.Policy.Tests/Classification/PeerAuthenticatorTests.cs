using Relay.Policy.Certificates;
using Relay.Policy.Classification;
using Relay.Policy.Planning;
using static Relay.Policy.Tests.TestPki;

namespace Relay.Policy.Tests.Classification;

public class PeerAuthenticatorTests
{
    private static readonly Chain Pki = ThreeLevel();
    private static PeerAuthenticator Authenticator => new(new PkixVerifier([Pki.Root]), TimeProvider.System);

    [Fact]
    public void Verify_policy_refuses_a_self_signed_certificate_and_accepts_the_pkix_chain()
    {
        var peer = ClassifierTests.Peer(PolicyLevel.Verify, PeerMode.Pkix);
        Assert.False(Authenticator.Authenticate(peer, [Leaf(null, ["mx.example.com"])]).Accept);
        var (auth, accept) = Authenticator.Authenticate(peer, Pki.Presented);
        Assert.True(accept);
        Assert.Equal(AuthenticationMethod.Pkix, auth.Method);
        Assert.Equal(CertificateDigests.SpkiSha256Hex(Pki.Leaf), auth.PeerSpkiSha256);
    }

    [Fact]
    public void Fingerprint_policy_accepts_only_the_pinned_key()
    {
        var peer = ClassifierTests.Peer(PolicyLevel.Fingerprint, PeerMode.Fingerprint) with { Fingerprints = [CertificateDigests.SpkiSha256Hex(Pki.Leaf)] };
        var (auth, accept) = Authenticator.Authenticate(peer, Pki.Presented);
        Assert.True(accept);
        Assert.Equal(TransportSecurity.Verified, OutcomeClassifier.Classify(peer, ClassifierTests.Tls(auth)).Transport);
        Assert.False(Authenticator.Authenticate(peer, [Leaf(null, ["mx.example.com"])]).Accept);
    }

    [Fact]
    public void Opportunistic_peer_accepts_anything_and_records_pkix_success_as_trusted()
    {
        var peer = ClassifierTests.Peer(PolicyLevel.May, PeerMode.Opportunistic);
        var selfSigned = Authenticator.Authenticate(peer, [Leaf(null, ["whatever"])]);
        Assert.True(selfSigned.Accept);
        Assert.Equal(TransportSecurity.Encrypted, OutcomeClassifier.Classify(peer, ClassifierTests.Tls(selfSigned.Authentication)).Transport);
        var good = Authenticator.Authenticate(peer, Pki.Presented);
        Assert.Equal(TransportSecurity.Trusted, OutcomeClassifier.Classify(peer, ClassifierTests.Tls(good.Authentication)).Transport);
    }

    [Theory]
    [InlineData(PolicyLevel.Dane, PeerMode.Dane, MxDnssec.Secure, TransportSecurity.Verified)]
    [InlineData(PolicyLevel.Dane, PeerMode.Dane, MxDnssec.Insecure, TransportSecurity.Trusted)]
    [InlineData(PolicyLevel.Verify, PeerMode.Pkix, MxDnssec.Insecure, TransportSecurity.Trusted)]
    [InlineData(PolicyLevel.Secure, PeerMode.Pkix, MxDnssec.Insecure, TransportSecurity.Verified)]
    [InlineData(PolicyLevel.Dane, PeerMode.Encrypt, MxDnssec.Secure, TransportSecurity.Encrypted)]
    [InlineData(PolicyLevel.None, PeerMode.Cleartext, MxDnssec.Secure, TransportSecurity.Cleartext)]
    public void Expected_outcome_for_relay_check_follows_the_classifier(PolicyLevel level, PeerMode mode, MxDnssec mx, TransportSecurity expected)
    {
        var tlsa = mode == PeerMode.Dane ? TlsaStatus.Secure : TlsaStatus.NotQueried;
        Assert.Equal(expected, OutcomeClassifier.Expected(ClassifierTests.Peer(level, mode, mx, tlsa))!.Value.Transport);
    }
}
