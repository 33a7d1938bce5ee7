namespace Relay.Server.Roles;

/// <summary>One part of `relay serve` (smtp, delivery, web). Start binds and returns; stop drains.</summary>
public interface IRole : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Binds listeners or starts workers; a failure here stops start-up.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops accepting new work and finishes in-flight work within <paramref name="drain"/>.</summary>
    Task StopAsync(TimeSpan drain);
}
