using Relay.Policy.Certificates;
using Relay.Policy.Classification;
using Relay.Policy.Tests.Classification;
using Relay.Policy.Planning;
using static Relay.Policy.Tests.TestPki;

namespace Relay.Policy.Tests.Certificates;

/// <summary>Relay:Tls:TrustAnchors: the PEM bundle parser, and that PKIX trusts exactly what the bundle holds.</summary>
public class TrustAnchorBundleTests
{
    private static readonly ReferenceIdentifier[] MxName = [new("mx.example.com")];

    [Fact]
    public void A_bundle_of_two_cas_with_a_key_block_between_them_yields_both_certificates()
    {
        var (a, b) = (Root("Anchor A"), Root("Anchor B"));
        var pem = a.ExportCertificatePem() + "\n-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n" + b.ExportCertificatePem();

        var anchors = TrustAnchorBundle.Parse(pem);

        Assert.Equal([a.Thumbprint, b.Thumbprint], anchors.Select(c => c.Thumbprint));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not pem at all")]
    [InlineData("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n")]
    public void A_bundle_without_certificates_is_refused_saying_so(string pem)
    {
        var e = Assert.Throws<FormatException>(() => TrustAnchorBundle.Parse(pem));
        Assert.Contains("no PEM CERTIFICATE block", e.Message);
    }

    [Fact]
    public void A_certificate_block_that_is_not_der_is_refused()
    {
        var e = Assert.Throws<FormatException>(() => TrustAnchorBundle.Parse("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
        Assert.Contains("not a certificate", e.Message);
    }

    [Fact]
    public void Pkix_with_the_bundle_trusts_its_ca_and_nothing_else()
    {
        var ours = ThreeLevel();
        var theirs = ThreeLevel();
        var anchors = TrustAnchorBundle.Parse(ours.Root.ExportCertificatePem());
        var pkix = new PkixVerifier(anchors);

        Assert.True(pkix.Verify(ours.Presented, MxName, Now).IsVerified);
        Assert.Equal(PkixVerdict.ChainInvalid, pkix.Verify(theirs.PresentedWithRoot, MxName, Now).Verdict);
    }

    [Fact]
    public void The_authenticator_given_the_bundle_accepts_a_verify_peer_it_chains_to()
    {
        var chain = ThreeLevel();
        var peer = ClassifierTests.Peer(PolicyLevel.Verify, PeerMode.Pkix);

        var (withBundle, accepted) = new PeerAuthenticator(TrustAnchorBundle.Parse(chain.Root.ExportCertificatePem())).Authenticate(peer, chain.Presented);
        var (_, acceptedBySystem) = new PeerAuthenticator(trustAnchors: null).Authenticate(peer, chain.Presented);

        Assert.True(accepted, withBundle.Detail);
        Assert.Equal(AuthenticationMethod.Pkix, withBundle.Method);
        Assert.False(acceptedBySystem, "a test CA must not be in the system store");
    }
}
