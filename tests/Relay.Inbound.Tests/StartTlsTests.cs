using System.Security.Authentication;
using System.Security.Cryptography;
using Relay.TestKit.Postgres;

namespace Relay.Inbound.Tests;

public class StartTlsTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Mail_over_starttls_is_stored_as_encrypted_with_the_real_tls_details_and_an_esmtps_received_header()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("tls");
        await client.CommandAsync("EHLO before.example");
        Assert.StartsWith("220 2.0.0", (await client.CommandAsync("STARTTLS")).ToString());
        var ssl = await client.StartTlsAsync();
        Assert.True(ssl.SslProtocol is SslProtocols.Tls12 or SslProtocols.Tls13);

        // RFC 3207 §4.2: the session starts over; MAIL before a new EHLO is out of sequence.
        Assert.StartsWith("503 5.5.1", (await client.CommandAsync($"MAIL FROM:<{sender}>")).ToString());
        var ehlo = await client.CommandAsync("EHLO after.example");
        Assert.DoesNotContain("STARTTLS", ehlo.Lines);
        Assert.Contains("REQUIRETLS", ehlo.Lines);
        Assert.StartsWith("554 5.5.1", (await client.CommandAsync("STARTTLS")).ToString());
        Assert.Equal(250, (await client.CommandAsync($"MAIL FROM:<{sender}> REQUIRETLS")).Code);
        Assert.Equal(250, (await client.CommandAsync("RCPT TO:<user@hosted.example>")).Code);
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        await client.SendAsync("Subject: tls\r\n\r\nsecret\r\n.\r\n");
        Assert.Equal(250, (await client.ReadReplyAsync()).Code);

        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        var version = ssl.SslProtocol == SslProtocols.Tls13 ? "TLSv1.3" : "TLSv1.2";
        Assert.Equal(("encrypted", version, ssl.NegotiatedCipherSuite.ToString()), (stored.Transport, stored.TlsVersion, stored.TlsCipher));
        Assert.Null(stored.ClientSpki);
        Assert.True(stored.RequireTls);
        Assert.Equal("after.example", stored.ClientHelo);
        Assert.StartsWith($"Received: from after.example ([127.0.0.1])\r\n\t(using {version} with cipher {ssl.NegotiatedCipherSuite}; no client certificate verified)\r\n"
            + "\tby mx.test.example (Relay) with ESMTPS\r\n", stored.Body);
    }

    [Fact]
    public async Task Plaintext_pipelined_after_starttls_is_discarded_and_the_session_dropped()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("injected");
        await client.CommandAsync("EHLO c");
        await client.SendAsync($"STARTTLS\r\nRSET\r\nMAIL FROM:<{sender}>\r\nRCPT TO:<user@hosted.example>\r\nDATA\r\nSubject: x\r\n\r\nx\r\n.\r\n");
        Assert.StartsWith("220 2.0.0", (await client.ReadReplyAsync()).ToString());
        // The victim's client now does its handshake; a vulnerable server would answer the injected commands inside TLS.
        bool dropped;
        try
        {
            await client.StartTlsAsync();
            dropped = await client.IsClosedAsync();
        }
        catch (Exception e) when (e is AuthenticationException or IOException) { dropped = true; }
        Assert.True(dropped);
        Assert.Empty(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
    }

    [Fact]
    public async Task A_client_that_never_completes_the_handshake_is_dropped_after_the_handshake_timeout()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.TlsHandshakeTimeout = TimeSpan.FromMilliseconds(300));
        await using var client = await listener.ConnectAsync();
        await client.CommandAsync("EHLO c");
        Assert.StartsWith("220 2.0.0", (await client.CommandAsync("STARTTLS")).ToString());
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(await client.IsClosedAsync());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"closed only after {watch.Elapsed}");
    }

    [Fact]
    public async Task Requiretls_over_cleartext_is_refused()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        await client.CommandAsync("EHLO c");
        Assert.StartsWith("530 5.7.10", (await client.CommandAsync("MAIL FROM:<a@b.example> REQUIRETLS")).ToString());
    }

    [Fact]
    public async Task A_client_certificate_is_recorded_by_its_spki_but_the_transport_stays_encrypted()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("ccert");
        using var clientCert = ServerCertificate.Generate("client.example", out _, out _);
        await client.CommandAsync("EHLO c");
        await client.CommandAsync("STARTTLS");
        var ssl = new System.Net.Security.SslStream(client.Stream, false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "mx.test.example",
            ClientCertificates = [clientCert],
            LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCert,
        });
        var writer = new StreamWriter(ssl) { NewLine = "\r\n", AutoFlush = true };
        var reader = new StreamReader(ssl);
        async Task<string> Say(string line)
        {
            await writer.WriteLineAsync(line);
            string? last;
            do last = await reader.ReadLineAsync(); while (last is not null && last.Length > 3 && last[3] == '-');
            return last ?? "";
        }
        Assert.StartsWith("250", await Say("EHLO c"));
        Assert.StartsWith("250", await Say($"MAIL FROM:<{sender}>"));
        Assert.StartsWith("250", await Say("RCPT TO:<u@hosted.example>"));
        Assert.StartsWith("354", await Say("DATA"));
        Assert.StartsWith("250", await Say("Subject: c\r\n\r\nx\r\n."));
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Equal("encrypted", stored.Transport);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(clientCert.PublicKey.ExportSubjectPublicKeyInfo())), stored.ClientSpki);
    }

    [Fact]
    public async Task A_generated_self_signed_certificate_is_kept_across_restarts()
    {
        var directory = Directory.CreateTempSubdirectory("relay-tls-").FullName;
        try
        {
            string first;
            await using (var listener = await TestListener.StartAsync(fixture.Database, o => o.GeneratedCertificateDirectory = directory))
                first = listener.Role.Certificate!.Thumbprint;
            Assert.True(File.Exists(Path.Combine(directory, ServerCertificate.GeneratedKeyFile)));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, ServerCertificate.GeneratedKeyFile)));
            await using (var listener = await TestListener.StartAsync(fixture.Database, o => o.GeneratedCertificateDirectory = directory))
                Assert.Equal(first, listener.Role.Certificate!.Thumbprint);
        }
        finally { Directory.Delete(directory, true); }
    }

    [Theory]
    [InlineData(SslProtocols.Tls12, "TLSv1.2")]
    [InlineData(SslProtocols.Tls13, "TLSv1.3")]
    public async Task Tls_1_2_and_1_3_are_accepted_and_recorded_by_their_version(SslProtocols protocol, string word)
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("tlsver");
        await client.CommandAsync("EHLO c");
        await client.CommandAsync("STARTTLS");
        var ssl = await client.StartTlsAsync(protocols: protocol);
        Assert.Equal(protocol, ssl.SslProtocol);
        await client.CommandAsync("EHLO c");
        Assert.Equal(250, (await ProtocolTests.SendMessageAsync(client, sender, "u@hosted.example", "Subject: v\r\n\r\nx")).Code);
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Equal(("encrypted", word), (stored.Transport, stored.TlsVersion));
    }
}
