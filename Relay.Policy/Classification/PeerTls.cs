using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Relay.Policy.Planning;

namespace Relay.Policy.Classification;

/// <summary>
/// The client TLS settings for one peer, so delivery's handshake runs exactly the plan's checks:
/// SNI is the plan's (the TLSA base domain under DANE, RFC 7672 §8.1), .NET's own PKIX verdict is ignored
/// and <see cref="PeerAuthenticator"/> decides, and the default cipher list stays (OpenSSL's DEFAULT has no
/// anonymous suites, which RFC 7672 §8.1 forbids: a server could otherwise skip its certificate).
/// </summary>
public static class PeerTls
{
    /// <param name="record">Receives the authentication result (called once per handshake that presents a certificate).</param>
    public static SslClientAuthenticationOptions Options(PeerPlan peer, PeerAuthenticator authenticator, Action<PeerAuthentication> record)
    {
        return new SslClientAuthenticationOptions
        {
            // A literal-address route has no name; an empty TargetHost sends no SNI.
            TargetHost = peer.Sni ?? "",
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            {
                var presented = Presented(certificate, chain);
                if (presented.Count == 0)
                {
                    record(PeerAuthentication.NotAttempted("the server presented no certificate"));
                    return !peer.RequiresAuthentication;
                }
                var (authentication, accept) = authenticator.Authenticate(peer, presented);
                record(authentication);
                return accept;
            },
        };
    }

    /// <summary>The chain as the server sent it, leaf first: SslStream puts the peer's extra certificates in
    /// the callback chain's ExtraStore; .NET's own chain building (which may add local roots) is not used.</summary>
    public static IReadOnlyList<X509Certificate2> Presented(X509Certificate? certificate, X509Chain? chain)
    {
        if (certificate is null) return [];
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var list = new List<X509Certificate2> { leaf };
        if (chain is not null)
            foreach (var c in chain.ChainPolicy.ExtraStore)
                if (!c.RawData.AsSpan().SequenceEqual(leaf.RawData)) list.Add(c);
        return list;
    }
}
