using System.Security.Cryptography.X509Certificates;
using Relay.Policy.Certificates;
using Relay.Policy.Dane;
using Relay.Policy.Planning;

namespace Relay.Policy.Classification;

/// <summary>
/// Called by delivery from its RemoteCertificateValidationCallback: runs exactly the check the peer's plan
/// requires and says whether the handshake may continue. Under opportunistic modes it still tries PKIX
/// against the host name, so a peer with a good WebPKI certificate is recorded as `trusted`.
/// </summary>
public sealed class PeerAuthenticator(PkixVerifier pkix, TimeProvider time)
{
    public PeerAuthenticator() : this(new PkixVerifier(), TimeProvider.System) { }

    /// <param name="trustAnchors">What PKIX trusts (Relay:Tls:TrustAnchors); null: the system store.</param>
    public PeerAuthenticator(X509Certificate2Collection? trustAnchors) : this(new PkixVerifier(trustAnchors), TimeProvider.System) { }

    /// <returns>The authentication, and whether the TLS session may be used for this peer's mail.</returns>
    public (PeerAuthentication Authentication, bool Accept) Authenticate(PeerPlan peer, IReadOnlyList<X509Certificate2> presented)
    {
        var now = time.GetUtcNow();
        var spki = presented.Count > 0 ? CertificateDigests.SpkiSha256Hex(presented[0]) : null;
        switch (peer.Mode)
        {
            case PeerMode.Dane:
            {
                var result = DaneVerifier.Verify(peer.UsableTlsa, peer.TlsaStatus == TlsaStatus.Secure, presented, peer.ReferenceIdentifiers, now);
                var auth = new PeerAuthentication(result.IsVerified ? result.Method : AuthenticationMethod.None, result.ToString(), Dane: result, PeerSpkiSha256: spki);
                return (auth, result.IsVerified);
            }
            case PeerMode.Pkix:
            {
                var result = pkix.Verify(presented, peer.ReferenceIdentifiers, now);
                var auth = new PeerAuthentication(result.IsVerified ? AuthenticationMethod.Pkix : AuthenticationMethod.None,
                    $"pkix {result.Verdict}: {result.Detail}", Pkix: result, PeerSpkiSha256: spki);
                return (auth, result.IsVerified);
            }
            case PeerMode.Fingerprint:
            {
                var match = presented.Count > 0 ? FingerprintMatcher.Match(presented[0], peer.Fingerprints) : null;
                var auth = match is { } m
                    ? new PeerAuthentication(AuthenticationMethod.Fingerprint, $"{m.Kind} digest matches pin", PinMatched: m.Pin, PeerSpkiSha256: spki)
                    : new PeerAuthentication(AuthenticationMethod.None, "no pinned fingerprint matches the leaf", PeerSpkiSha256: spki);
                return (auth, match is not null);
            }
            default:
            {
                // Opportunistic and encrypt: anything goes; PKIX only decides between `encrypted` and `trusted`.
                var result = pkix.Verify(presented, peer.ReferenceIdentifiers, now);
                var auth = new PeerAuthentication(result.IsVerified ? AuthenticationMethod.Pkix : AuthenticationMethod.None,
                    $"pkix {result.Verdict}: {result.Detail}", Pkix: result, PeerSpkiSha256: spki);
                return (auth, true);
            }
        }
    }
}
