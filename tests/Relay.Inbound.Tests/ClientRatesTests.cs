using System.Net;

namespace Relay.Inbound.Tests;

/// <summary>The anvil-style windows with a clock the test moves: counts, limits, window ends, exemptions, pruning.</summary>
public class ClientRatesTests
{
    private TimeSpan _now = TimeSpan.FromHours(1);

    private ClientRates Rates(Action<SmtpListenerOptions> configure)
    {
        var options = new SmtpListenerOptions { RateLimitExceptions = ["10.0.0.0/8"] };
        configure(options);
        return new ClientRates(options, () => _now);
    }

    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");

    [Fact]
    public void Connections_over_the_limit_are_refused_until_the_minute_ends()
    {
        var rates = Rates(o => o.ConnectionRateLimit = 2);
        Assert.False(rates.ConnectionOverLimit(Client));
        Assert.False(rates.ConnectionOverLimit(Client));
        Assert.True(rates.ConnectionOverLimit(Client));
        Assert.False(rates.ConnectionOverLimit(IPAddress.Parse("192.0.2.8")));
        _now += TimeSpan.FromSeconds(61);
        Assert.False(rates.ConnectionOverLimit(Client));
    }

    [Fact]
    public void Auth_failures_lock_out_for_the_rest_of_their_window_and_exempt_networks_are_never_counted()
    {
        var rates = Rates(o => { o.AuthFailureLimit = 3; o.AuthFailureWindow = TimeSpan.FromMinutes(5); });
        Assert.Equal([1, 2, 3], new[] { rates.AuthFailed(Client), rates.AuthFailed(Client), rates.AuthFailed(Client) });
        Assert.True(rates.AuthLockedOut(Client));
        _now += TimeSpan.FromMinutes(4);
        Assert.True(rates.AuthLockedOut(Client));
        _now += TimeSpan.FromMinutes(1);
        Assert.False(rates.AuthLockedOut(Client));
        var inside = IPAddress.Parse("10.1.2.3");
        for (var i = 0; i < 10; i++) Assert.Equal(0, rates.AuthFailed(inside));
        Assert.False(rates.AuthLockedOut(inside));
        Assert.False(rates.AuthLockedOut(IPAddress.Parse("::ffff:10.1.2.3")));
    }

    [Fact]
    public void Zero_is_no_limit_and_pruning_forgets_clients_whose_windows_ended()
    {
        var rates = Rates(o => { o.MessageRateLimit = 0; o.ConnectionRateLimit = 5; });
        for (var i = 0; i < 1000; i++) Assert.False(rates.MessageOverLimit(Client));
        rates.ConnectionOverLimit(Client);
        Assert.Equal(1, rates.Tracked);
        _now += TimeSpan.FromMinutes(6);
        rates.Prune();
        Assert.Equal(0, rates.Tracked);
    }
}
