using System.Text;
using Relay.Db;

namespace Relay.Db.Tests;

internal static class TestMessages
{
    public static NewMessage Simple(string sender = "alice@example.org") => new(
        sender, Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nbody\r\n"), "192.0.2.1", "client.example", InboundSecurity.Cleartext);

    public static NewRecipient[] Recipients(int count, string domain = "example.net") =>
        Enumerable.Range(0, count).Select(i => new NewRecipient($"user{i}@{domain}")).ToArray();
}
