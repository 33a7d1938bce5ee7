using Relay.TestKit.Dns;

namespace Relay.Dns.Tests;

/// <summary>One standard signed DNS world (nsd + validating unbound) for the whole test run.</summary>
[CollectionDefinition(Name)]
public sealed class DnsWorldCollection : ICollectionFixture<DnsWorldFixture>
{
    public const string Name = "dns-world";
}
