using System.Net;
using Relay.Delivery.Ipsec;
using Relay.Dns;
using Relay.Policy.Classification;

namespace Relay.Delivery.Tests.Ipsec;

/// <summary>
/// Which IPSECKEY answers give a key to load (pure selection over DnsResult values; the same rules against a real signed
/// DNS world and real pluto are in <see cref="PlutoIpseckeyTests"/>).
/// </summary>
public class IpseckeyLookupTests
{
    private static readonly IPAddress Peer = IPAddress.Parse("10.211.0.2");
    private static readonly byte[] Key = [3, 1, 0, 1, 0xC0, 0xFF, 0xEE];
    private const string Owner = "2.0.211.10.in-addr.arpa.";

    private static IpseckeyRecord Record(byte precedence, IpseckeyGatewayType gateway, byte algorithm, IPAddress? address = null, string? name = null) =>
        new(Owner, 300, precedence, gateway, algorithm, address, name, Key);

    private static (List<LoadableKey> Keys, List<string> Notes) Select(DnsResult result, string? hostName = null)
    {
        var keys = new List<LoadableKey>();
        var notes = new List<string>();
        IpseckeyLookup.Select(result, "10.211.0.2", Peer, hostName, keys, notes);
        return (keys, notes);
    }

    [Fact]
    public void A_secure_answer_gives_its_keys_in_precedence_order_with_owner_ttl_and_id()
    {
        var (keys, notes) = Select(new DnsResult.Secure(Owner, DnsType.IPSECKEY,
            [Record(20, IpseckeyGatewayType.IPv4, 3, Peer), Record(10, IpseckeyGatewayType.None, 2)], 120));
        Assert.Empty(notes);
        Assert.Equal(["--pubkeyrsa", "--pubkeyecdsa"], keys.Select(k => k.WhackOption));
        Assert.All(keys, k => Assert.Equal(new IpsecPeerKey(Owner, 120, "10.211.0.2"), k.Key));
        Assert.Equal("0s" + Convert.ToBase64String(Key), keys[0].WhackValue);
    }

    [Fact]
    public void Insecure_and_bogus_answers_give_no_key_and_say_why()
    {
        var insecure = Select(new DnsResult.Insecure(Owner, DnsType.IPSECKEY, [Record(10, IpseckeyGatewayType.None, 2)], 300));
        Assert.Empty(insecure.Keys);
        Assert.Equal($"IPSECKEY {Owner} insecure (not DNSSEC-validated): not used", Assert.Single(insecure.Notes));
        var bogus = Select(new DnsResult.Bogus(Owner, DnsType.IPSECKEY, 6, "DNSSEC Bogus"));
        Assert.Empty(bogus.Keys);
        Assert.Contains("bogus", Assert.Single(bogus.Notes));
        var failed = Select(new DnsResult.Error(Owner, DnsType.IPSECKEY, DnsErrorKind.Timeout, "no answer"));
        Assert.Empty(failed.Keys);
        Assert.Contains("lookup failed (Timeout)", Assert.Single(failed.Notes));
    }

    [Fact]
    public void No_record_there_is_nothing_to_say()
    {
        foreach (DnsResult absent in new DnsResult[] { new DnsResult.NxDomain(Owner, DnsType.IPSECKEY, true, 300), new DnsResult.NoData(Owner, DnsType.IPSECKEY, false, 300) })
        {
            var (keys, notes) = Select(absent);
            Assert.Empty(keys);
            Assert.Empty(notes);
        }
    }

    [Fact]
    public void Records_for_another_gateway_or_without_a_usable_key_are_skipped()
    {
        var (keys, notes) = Select(new DnsResult.Secure(Owner, DnsType.IPSECKEY, [
            Record(10, IpseckeyGatewayType.IPv4, 2, IPAddress.Parse("10.211.0.99")), // another host's gateway
            Record(10, IpseckeyGatewayType.Name, 2, name: "gw.oe.test"),               // a gateway name that is not the peer
            Record(10, IpseckeyGatewayType.None, 1),                                   // DSA: pluto takes RSA and ECDSA
        ], 300), hostName: "mx.oe.test.");
        Assert.Empty(keys);
        Assert.Contains("no record for this host", Assert.Single(notes));
        var named = Select(new DnsResult.Secure(Owner, DnsType.IPSECKEY, [Record(10, IpseckeyGatewayType.Name, 2, name: "mx.oe.test")], 300),
            hostName: "mx.oe.test.");
        Assert.Single(named.Keys);
    }
}
