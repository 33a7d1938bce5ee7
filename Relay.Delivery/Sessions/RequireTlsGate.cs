using Relay.Policy;

namespace Relay.Delivery.Sessions;

/// <summary>
/// RFC 8689 §4.2.1: a REQUIRETLS message may be sent over a session only when TLS was negotiated, the peer was
/// authenticated in a way an attacker on the path cannot downgrade, and the peer announced REQUIRETLS in its
/// EHLO after STARTTLS. In DESIGN.md's words the channel must be <see cref="TransportSecurity.Verified"/> as
/// Relay.Policy's classifier decides: <c>trusted</c> rests on insecure DNS and <c>encrypted</c> on nothing, so
/// neither will do. Checked for every session, opened or reused.
/// </summary>
public static class RequireTlsGate
{
    /// <summary>Null when <paramref name="session"/> may carry a REQUIRETLS message; otherwise why not, for the attempt row.</summary>
    public static string? Refusal(EstablishedSession session)
    {
        if (session.Client.Tls is null || session.Security.Transport != TransportSecurity.Verified)
            return $"requiretls: peer not authenticated ({session.Security.Transport.ToWire()})";
        // Only the capabilities of the EHLO after STARTTLS are kept by the client (RFC 3207 §4.2), and a verified
        // session means that EHLO came from the authenticated peer, so this cannot be forged by the path.
        return session.Client.Capabilities.RequireTls ? null : "requiretls: peer did not offer REQUIRETLS";
    }
}
