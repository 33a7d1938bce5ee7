namespace Relay.TestKit.Dns;

/// <summary>
/// xunit fixture holding one <see cref="StandardDnsWorld"/> for a whole test run. Declare, in the test project,
/// <c>[CollectionDefinition("dns-world")] public sealed class DnsWorldCollection : ICollectionFixture&lt;DnsWorldFixture&gt;;</c>
/// and put <c>[Collection("dns-world")]</c> on the classes that need it.
/// </summary>
public sealed class DnsWorldFixture : Xunit.IAsyncLifetime
{
    private DnsWorld? _world;

    public DnsWorld World => _world ?? throw new InvalidOperationException("the DNS world has not started");

    public async Task InitializeAsync() => _world = await StandardDnsWorld.StartAsync().ConfigureAwait(false);

    public async Task DisposeAsync()
    {
        if (_world is not null) await _world.DisposeAsync().ConfigureAwait(false);
    }
}
