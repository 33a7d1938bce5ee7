using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Npgsql;
using Relay.Web;

namespace Relay.Web.Tests;

/// <summary>
/// The Data Protection key ring encrypted at rest with Relay:Web:KeyEncryptionCertificate: the stored XML holds no
/// plaintext master key, another web process with the same certificate opens the cookies, and after a rotation the
/// retired certificate (Relay:Web:KeyDecryptionCertificates) keeps the sessions. Each role is a separate host on real
/// Kestrel; only the database is shared, and on it the first role of the test makes the first key.
/// </summary>
public sealed class KeyRingEncryptionTests(FreshKeyRingFixture web) : IClassFixture<FreshKeyRingFixture>
{
    [Fact]
    public async Task Keys_are_stored_encrypted_open_on_a_second_process_and_survive_a_rotation_with_the_retired_certificate()
    {
        var first = TestCertificates.KeyEncryption("relay key ring 1");
        var one = await web.StartAsync(WebFixture.Options() with { KeyEncryptionCertificate = first });
        var cookies = new CookieContainer();
        using var client = WebFixture.Client(one, cookies);
        Assert.Equal(HttpStatusCode.Redirect, (await WebFixture.LoginAsync(client)).StatusCode);

        var stored = await StoredKeysAsync();
        Assert.NotEmpty(stored);
        Assert.All(stored, xml =>
        {
            Assert.DoesNotContain("<masterKey", xml);
            Assert.Contains("EncryptedXmlDecryptor", xml);
            Assert.Contains("<EncryptedData", xml);
        });

        // A second process with the same certificate reads the ring: the cookie the first one issued opens there.
        var two = await web.StartAsync(WebFixture.Options() with { KeyEncryptionCertificate = first });
        using (var onTwo = WebFixture.Client(two, cookies))
            Assert.Equal(HttpStatusCode.OK, (await onTwo.GetAsync("/api/peers")).StatusCode);

        // Rotation: a new certificate encrypts from now on, the retired one still decrypts what was made under it.
        var second = TestCertificates.KeyEncryption("relay key ring 2");
        var rotated = await web.StartAsync(WebFixture.Options() with { KeyEncryptionCertificate = second, KeyDecryptionCertificates = [first] });
        using (var onRotated = WebFixture.Client(rotated, cookies))
            Assert.Equal(HttpStatusCode.OK, (await onRotated.GetAsync("/api/peers")).StatusCode);

        // Without the retired certificate the same cookie does not open: the key really is encrypted to it.
        using var quiet = LoggerFactory.Create(b => b.AddProvider(new RecordingProvider(new ConcurrentQueue<(LogLevel, string, string)>())));
        var withoutRetired = await web.StartAsync(WebFixture.Options() with { KeyEncryptionCertificate = second, Loggers = quiet });
        using (var onWithoutRetired = WebFixture.Client(withoutRetired, cookies))
            Assert.Equal(HttpStatusCode.Unauthorized, (await onWithoutRetired.GetAsync("/api/peers")).StatusCode);
    }

    private async Task<List<string>> StoredKeysAsync()
    {
        await using var connection = new NpgsqlConnection(web.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select xml from data_protection_keys", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }
}
