using Relay.TestKit.Ipsec;

namespace Relay.Delivery.Tests.Ipsec;

/// <summary>One namespace pair with two real plutos per test class (xUnit runs a class's tests one after another).</summary>
public sealed class PlutoPairFixture : IAsyncLifetime
{
    public PlutoPair Pair { get; private set; } = null!;

    public async Task InitializeAsync() => Pair = await PlutoPair.StartAsync();

    public async Task DisposeAsync() => await Pair.DisposeAsync();
}
