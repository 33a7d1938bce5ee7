using Relay.Policy.Certificates;
using Relay.Policy.Dane;

namespace Relay.Policy.Classification;

/// <summary>
/// What certificate checking established during the handshake. <see cref="Authenticated"/> is derived from
/// the verifiers' own results, never asserted, so the classifier cannot be talked into a stronger outcome.
/// </summary>
public sealed record PeerAuthentication(
    AuthenticationMethod Method,
    string Detail,
    DaneResult? Dane = null,
    PkixResult? Pkix = null,
    string? PinMatched = null,
    string? PeerSpkiSha256 = null)
{
    public bool Authenticated => Method switch
    {
        AuthenticationMethod.DaneEe or AuthenticationMethod.DaneTa => Dane is { IsVerified: true } d && d.Method == Method,
        AuthenticationMethod.Pkix => Pkix is { IsVerified: true },
        AuthenticationMethod.Fingerprint => PinMatched is not null,
        _ => false,
    };

    public static PeerAuthentication NotAttempted(string detail) => new(AuthenticationMethod.None, detail);
}
