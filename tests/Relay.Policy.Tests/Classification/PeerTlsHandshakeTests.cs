using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Relay.Policy.Certificates;
using Relay.Policy.Classification;
using Relay.Policy.Dane;
using Relay.Policy.Planning;
using static Relay.Policy.Tests.TestPki;

namespace Relay.Policy.Tests.Classification;

/// <summary>Real TLS handshakes over loopback sockets, with the plan's checks in the certificate callback.</summary>
public class PeerTlsHandshakeTests
{
    /// <summary>The chain as the server sent it, leaf first (SslStream puts the extra certificates in ExtraStore).</summary>
    private static IReadOnlyList<X509Certificate2> Presented(X509Certificate? certificate, X509Chain? chain)
    {
        if (certificate is null) return [];
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return [leaf, .. (chain?.ChainPolicy.ExtraStore ?? []).Where(c => !c.RawData.AsSpan().SequenceEqual(leaf.RawData))];
    }

    private static PeerPlan DanePeer(params TlsaAssociation[] tlsa) =>
        ClassifierTests.Peer(PolicyLevel.Dane, PeerMode.Dane, MxDnssec.Secure, TlsaStatus.Secure) with
        {
            Tlsa = tlsa, UsableTlsa = TlsaUsability.Usable(tlsa), Sni = "mx.example.com", TlsaBaseDomain = "mx.example.com",
        };

    /// <returns>Whether the client accepted, what it recorded, and the SNI the server saw.</returns>
    private static async Task<(bool Accepted, PeerAuthentication? Auth, string? Sni)> HandshakeAsync(PeerPlan peer, X509Certificate2 leaf, X509Certificate2[] extra)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        string? sni = null;
        var serverTask = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync(cts.Token);
            await using var ssl = new SslStream(socket.GetStream());
            try
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = SslStreamCertificateContext.Create(leaf, new X509Certificate2Collection(extra), offline: true),
                }, cts.Token);
                sni = ssl.TargetHostName;
                await ssl.WriteAsync(new byte[] { 1 }, cts.Token);
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                // The client refused the certificate: expected in the negative cases.
            }
        });
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
        await using var clientSsl = new SslStream(client.GetStream());
        PeerAuthentication? recorded = null;
        var authenticator = new PeerAuthenticator(new PkixVerifier([]), TimeProvider.System);
        // What delivery's SMTP client does: the SNI of the plan, and Policy's authenticator as the only judge.
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = peer.Sni ?? "",
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            {
                var (authentication, accept) = authenticator.Authenticate(peer, Presented(certificate, chain));
                recorded = authentication;
                return accept;
            },
        };
        var accepted = true;
        try
        {
            await clientSsl.AuthenticateAsClientAsync(options, cts.Token);
            var buffer = new byte[1];
            await clientSsl.ReadExactlyAsync(buffer, cts.Token);
        }
        catch (AuthenticationException)
        {
            accepted = false;
        }
        client.Close();
        await serverTask.WaitAsync(cts.Token);
        return (accepted, recorded, sni);
    }

    [Fact]
    public async Task Dane_ee_peer_is_accepted_and_receives_the_tlsa_base_domain_as_sni()
    {
        var leaf = Leaf(null, ["something.else"]);
        var (accepted, auth, sni) = await HandshakeAsync(DanePeer(Tlsa(3, 1, 1, leaf)), leaf, []);
        Assert.True(accepted);
        Assert.Equal(AuthenticationMethod.DaneEe, auth!.Method);
        Assert.Equal("mx.example.com", sni);
    }

    [Fact]
    public async Task Dane_ta_peer_sending_its_intermediate_is_accepted_at_depth_one()
    {
        var c = ThreeLevel();
        var (accepted, auth, _) = await HandshakeAsync(DanePeer(Tlsa(2, 1, 1, c.Intermediate)), c.Leaf, [c.Intermediate]);
        Assert.True(accepted, auth?.Detail);
        Assert.Equal(AuthenticationMethod.DaneTa, auth!.Method);
        Assert.Equal(1, auth.Dane!.Depth);
    }

    [Fact]
    public async Task Dane_peer_with_a_non_matching_certificate_is_refused_during_the_handshake()
    {
        var leaf = Leaf(null, ["mx.example.com"]);
        var (accepted, auth, _) = await HandshakeAsync(DanePeer(Tlsa(3, 1, 1, Leaf(null, ["mx.example.com"]))), leaf, []);
        Assert.False(accepted);
        Assert.False(auth!.Authenticated);
        Assert.Equal(DaneVerdict.NoMatch, auth.Dane!.Verdict);
    }

    [Fact]
    public async Task Opportunistic_peer_with_a_self_signed_certificate_is_accepted_as_encrypted()
    {
        var peer = ClassifierTests.Peer(PolicyLevel.May, PeerMode.Opportunistic);
        var (accepted, auth, sni) = await HandshakeAsync(peer, Leaf(null, ["whatever"]), []);
        Assert.True(accepted);
        Assert.Equal("mx.example.com", sni);
        Assert.Equal(TransportSecurity.Encrypted, OutcomeClassifier.Classify(peer, ClassifierTests.Tls(auth)).Transport);
    }
}
