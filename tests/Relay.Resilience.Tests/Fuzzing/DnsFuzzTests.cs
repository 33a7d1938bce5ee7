using System.Net;
using System.Net.Sockets;
using Relay.Dns;
using Relay.Dns.Wire;
using Relay.TestKit.Dns;
using Xunit.Abstractions;

namespace Relay.Resilience.Tests.Fuzzing;

/// <summary>
/// Issue 13 §6, DNS (lib/Relay.Dns): mutations of real answers from a validating unbound over a signed zone (MX,
/// A, TLSA, TXT, NXDOMAIN with NSEC proofs, DNSKEY with RRSIGs). The wire reader answers a message or its own format
/// error (TryParse = false); whatever parses also prints and re-encodes.
/// </summary>
public sealed class DnsFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Damaged_dns_answers_parse_or_are_refused_never_throw()
    {
        var builder = new DnsWorldBuilder();
        builder.Zone("fuzz.test", signed: true).Add("@ MX 10 mx", "@ MX 20 mx2.elsewhere.test.", "mx A 192.0.2.25", "mx AAAA 2001:db8::25",
            $"_25._tcp.mx TLSA 3 1 1 {new string('a', 64)}", "@ TXT \"v=STSv1; id=20261201\"", "alias CNAME mx", "_mta-sts TXT \"v=STSv1; id=1\"");
        await using var world = await builder.StartAsync();
        var corpus = new List<byte[]>();
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var buffer = new byte[65535];
            (string, DnsType)[] questions = [("fuzz.test", DnsType.MX), ("mx.fuzz.test", DnsType.A), ("mx.fuzz.test", DnsType.AAAA),
                ("_25._tcp.mx.fuzz.test", DnsType.TLSA), ("fuzz.test", DnsType.TXT), ("nothing.fuzz.test", DnsType.A),
                ("alias.fuzz.test", DnsType.A), ("fuzz.test", DnsType.SOA), ("mx.fuzz.test", DnsType.TXT)];
            foreach (var (name, type) in questions)
            {
                await socket.SendToAsync(DnsMessage.Query((ushort)corpus.Count, name, type, 4096).ToBytes(), SocketFlags.None, world.Resolver);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
                corpus.Add(buffer[..received.ReceivedBytes]);
            }
        }
        Assert.Contains(corpus, a => a.Length > 300); // signatures and NSEC proofs make them realistic

        Fuzz.Run(output, "dns-answer", 1311, 20_000, corpus, packet =>
        {
            if (!DnsMessage.TryParse(packet, out var message, out _)) return false;
            foreach (var record in message.Answers.Concat(message.Authorities).Concat(message.Additionals)) _ = record.ToZoneLine();
            _ = message.ToBytes();
            return true;
        });
    }
}
