using Relay.Delivery.Planning;
using Relay.Policy.Classification;
using Relay.Smtp.Client;

namespace Relay.Delivery.Sessions;

/// <summary>
/// A session ready for MAIL FROM: the facts of how it was opened (<see cref="Report"/>, which every transaction over it
/// starts from) and what Relay.Policy says that channel is worth (<see cref="Security"/>), never more.
/// </summary>
public sealed class EstablishedSession(SmtpClientSession client, PeerTarget target, AttemptReport report, ChannelSecurity security) : IAsyncDisposable
{
    public SmtpClientSession Client { get; } = client;
    public PeerTarget Target { get; } = target;
    public AttemptReport Report { get; } = report;
    public ChannelSecurity Security { get; } = security;
    public ValueTask DisposeAsync() => Client.DisposeAsync();
}
