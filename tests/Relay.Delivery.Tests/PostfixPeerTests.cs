using System.Text.RegularExpressions;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>Delivery to a real Postfix smtpd (Debian) with a certificate made here: what we record must match what Postfix saw.</summary>
public sealed class PostfixPeerFixture : IAsyncLifetime
{
    public PostfixPeer Postfix { get; private set; } = null!;
    public System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate { get; } = PeerCertificates.SelfSigned("postfix-peer.test");

    public async Task InitializeAsync() => Postfix = await PostfixPeer.StartAsync(Certificate, true, false);

    public async Task DisposeAsync()
    {
        if (Postfix is not null) await Postfix.DisposeAsync();
    }
}

public class PostfixPeerTests(PostfixPeerFixture fixture) : IClassFixture<PostfixPeerFixture>
{
    [Fact]
    public async Task Postfix_with_starttls_and_self_signed_certificate_is_encrypted_and_the_tls_facts_match_its_log()
    {
        await using var h = await Harness.CreateAsync();
        var listener = fixture.Postfix.Listeners.Single(l => l.StartTls);
        var id = await h.EnqueueAsync("alice@origin.test", ["bob@tls.postfix.test"], body: "Subject: to postfix\r\n\r\n8-bit body: grüße\r\n");

        await h.Role(Harness.Options(("tls.postfix.test", listener.Route))).RunOnceAsync(CancellationToken.None);

        var detail = await h.ShowAsync(id);
        var attempt = Assert.Single(detail.Attempts);
        Assert.Equal("delivered", Assert.Single(detail.Recipients).State);
        Assert.Equal("encrypted", attempt.Transport);
        Assert.Equal(PeerCertificates.SpkiSha256(fixture.Certificate), attempt.Spki);
        await fixture.Postfix.WaitForLogLineAsync(TimeSpan.FromSeconds(20), "to=<bob@tls.postfix.test>", "status=sent");
        // "Anonymous TLS connection established from unknown[127.x.y.z]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 …"
        var tls = await fixture.Postfix.WaitForLogLineAsync(TimeSpan.FromSeconds(5), "TLS connection established from");
        var match = Regex.Match(tls, @": (TLSv[\d.]+) with cipher (\S+)");
        Assert.True(match.Success, tls);
        Assert.Equal(match.Groups[1].Value, attempt.TlsVersion);
        Assert.Equal(match.Groups[2].Value, OpenSslName(attempt.TlsCipher!));
    }

    [Fact]
    public async Task Postfix_without_starttls_is_cleartext_starttls_not_offered()
    {
        await using var h = await Harness.CreateAsync();
        var listener = fixture.Postfix.Listeners.Single(l => !l.StartTls);
        var id = await h.EnqueueAsync("alice@origin.test", ["carol@plain.postfix.test"]);

        await h.Role(Harness.Options(("plain.postfix.test", listener.Route))).RunOnceAsync(CancellationToken.None);

        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal(("cleartext", "starttls-not-offered"), (attempt.Transport, attempt.Reason));
        await fixture.Postfix.WaitForLogLineAsync(TimeSpan.FromSeconds(20), "to=<carol@plain.postfix.test>", "status=sent");
    }

    /// <summary>.NET names TLS 1.3 suites as IANA does, which is also OpenSSL's name for them.</summary>
    private static string OpenSslName(string iana) => iana;
}
