using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Relay.Web.Tests;

/// <summary>
/// Without a key-encryption certificate the ring is stored unencrypted, as before; start-up says so once, naming the key
/// to set, and ASP.NET Core's own warning per new key ("No XML encryptor configured") no longer appears.
/// </summary>
public sealed class UnencryptedKeyRingWarningTests(FreshKeyRingFixture web) : IClassFixture<FreshKeyRingFixture>
{
    [Fact]
    public async Task Start_up_warns_once_naming_the_key_and_the_new_key_is_marked_unencrypted()
    {
        var lines = new ConcurrentQueue<(LogLevel Level, string Category, string Message)>();
        using var loggers = RecordingLoggers.Create(lines);
        var url = await web.StartAsync(WebFixture.Options() with { Loggers = loggers });   // makes the database's first key
        using var client = await web.LoggedInClientAsync(url);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/peers")).StatusCode);

        var warnings = RecordingLoggers.Warnings(lines);
        Assert.True(warnings.Count == 1, string.Join("\n", warnings));
        Assert.Contains("Relay:Web:KeyEncryptionCertificate", warnings[0]);
        Assert.Contains("unencrypted", warnings[0]);

        await using var connection = new NpgsqlConnection(web.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select xml from data_protection_keys", connection);
        var xml = (string)(await command.ExecuteScalarAsync())!;
        Assert.Contains("unencryptedKey", xml);   // said so in the row too, never passed off as encrypted
    }
}
