using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Relay.Dns.Wire;
using Relay.TestKit.Dns;
using W = Relay.TestKit.Dns.StandardDnsWorld;

namespace Relay.Dns.Tests;

/// <summary>Seeded random damage to real unbound answers: the reader never throws and never hangs.</summary>
[Collection(DnsWorldCollection.Name)]
public sealed class MutationTests(DnsWorldFixture fixture)
{
    private const int Mutations = 10_000;

    private async Task<List<byte[]>> RealAnswersAsync()
    {
        (string, DnsType)[] questions =
        [
            (W.SecureDomain, DnsType.MX), (W.SecureMxTlsa, DnsType.TLSA), (W.SecureMx, DnsType.IPSECKEY),
            (W.SecureAlias, DnsType.A), (W.SecureNxDomain, DnsType.A), (W.SecureNoData, DnsType.TXT),
            (W.BogusDomain, DnsType.MX), (W.IpseckeyNameGateway, DnsType.IPSECKEY), (W.SecureZone, DnsType.SOA),
        ];
        var answers = new List<byte[]>();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Any, 0));
        var buffer = new byte[65535];
        foreach (var (name, type) in questions)
        {
            var query = DnsMessage.Query((ushort)answers.Count, name, type, 4096);
            await socket.SendToAsync(query.ToBytes(), SocketFlags.None, fixture.World.Resolver);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
            var answer = buffer[..r.ReceivedBytes];
            Assert.True(DnsMessage.TryParse(answer, out _, out var error), $"{name} {type}: {error}");
            answers.Add(answer);
        }
        return answers;
    }

    [Fact]
    public async Task TenThousandMutationsOfRealAnswersNeverThrow()
    {
        var answers = await RealAnswersAsync();
        Assert.Contains(answers, a => a.Length > 300); // RRSIGs and NSECs make them realistic
        var random = new Random(20261125);
        var watch = Stopwatch.StartNew();
        var parsed = 0;
        for (var i = 0; i < Mutations; i++)
        {
            var packet = Mutate(answers[random.Next(answers.Count)], random);
            if (DnsMessage.TryParse(packet, out var message, out var error))
            {
                parsed++;
                // Whatever parses must also print and re-encode without throwing.
                foreach (var r in message.Answers.Concat(message.Authorities).Concat(message.Additionals))
                    _ = r.ToZoneLine();
                _ = message.ToBytes();
            }
            else
            {
                Assert.StartsWith("malformed DNS message", error);
            }
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.InRange(parsed, 1, Mutations - 1); // the mutations hit both outcomes
    }

    [Fact]
    public async Task EveryProperPrefixOfEveryRealAnswerIsAnError()
    {
        foreach (var answer in await RealAnswersAsync())
        {
            for (var length = 0; length < answer.Length; length++)
                Assert.False(DnsMessage.TryParse(answer.AsSpan(0, length), out _, out _), $"prefix {length} of {answer.Length}");
        }
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var packet = (byte[])original.Clone();
        switch (random.Next(5))
        {
            case 0: // flip bits
                for (var n = random.Next(1, 4); n > 0; n--) packet[random.Next(packet.Length)] ^= (byte)(1 << random.Next(8));
                return packet;
            case 1: // random bytes
                for (var n = random.Next(1, 4); n > 0; n--) packet[random.Next(packet.Length)] = (byte)random.Next(256);
                return packet;
            case 2: // a compression pointer to a random place
                var at = random.Next(12, packet.Length - 1);
                var target = random.Next(packet.Length);
                packet[at] = (byte)(0xC0 | (target >> 8));
                packet[at + 1] = (byte)target;
                return packet;
            case 3: // truncate
                return packet[..random.Next(packet.Length)];
            default: // duplicate a slice into the middle
                var from = random.Next(packet.Length);
                var length = random.Next(1, Math.Min(64, packet.Length - from) + 1);
                var into = random.Next(packet.Length);
                return [.. packet[..into], .. packet[from..(from + length)], .. packet[into..]];
        }
    }
}
