using Relay.Delivery;
using Relay.Delivery.Planning;
using Relay.Delivery.Sessions;
using Relay.Dns;
using Relay.Policy;
using Relay.Policy.Classification;
using Relay.Smtp.Client;

namespace Relay.Server.Cli;

/// <summary>What one session with one peer really achieved, for `relay check`: the channel's security, or where and why it failed.</summary>
internal sealed record ProbeResult(string Name, string Address, int Port, ChannelSecurity? Channel, TlsFacts? Tls, string? Error);

/// <summary>
/// Opens a session to each peer of a destination with delivery's own options, planner, session opener and Policy's
/// authenticator and classifier, so `relay check` reports exactly what delivery would record, then QUITs without sending mail.
/// </summary>
internal static class CheckProbe
{
    /// <param name="hop">The plan `relay check` made with delivery's planner; its targets are the addresses delivery would try.</param>
    public static async Task<IReadOnlyList<ProbeResult>> RunAsync(HopPlan hop, DeliveryOptions options, CancellationToken cancellationToken)
    {
        var authenticator = new PeerAuthenticator(options.TrustAnchors);
        var results = new List<ProbeResult>();
        foreach (var target in hop.Targets)
            results.Add(await ProbeAsync(target, authenticator, options, cancellationToken));
        return results;
    }

    private static async Task<ProbeResult> ProbeAsync(PeerTarget target, PeerAuthenticator authenticator, DeliveryOptions options,
        CancellationToken cancellationToken)
    {
        var (name, address, port) = (target.Name, target.Address.ToString(), target.Port);
        var (session, report) = await SessionOpener.OpenAsync(target, messageRequiresTls: false, authenticator, options, cancellationToken);
        if (session is null)
            return new ProbeResult(name, address, port, null, report.Tls, $"{report.Stage.ToWire()}: {report.Error}");
        await using (session)
        {
            try { await session.Client.QuitAsync(cancellationToken); }
            catch (Exception e) when (e is IOException or SmtpClientException) { /* the answer is already in hand */ }
            return new ProbeResult(name, address, port, session.Security, session.Report.Tls is { Established: true } tls ? tls : null, null);
        }
    }
}
