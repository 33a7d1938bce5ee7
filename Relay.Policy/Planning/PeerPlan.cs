using System.Net;
using Relay.Policy.Certificates;
using Relay.Policy.Dane;

namespace Relay.Policy.Planning;

/// <summary>What the attempt with one peer must do; derived from the level and the DNS answers.</summary>
public enum PeerMode
{
    /// <summary>`none`: never STARTTLS.</summary>
    Cleartext,
    /// <summary>`may`, or `dane` without usable secure TLSA: TLS if offered, cleartext after a handshake failure.</summary>
    Opportunistic,
    /// <summary>TLS required, no authentication (`encrypt`; `dane` with secure but unusable TLSA).</summary>
    Encrypt,
    /// <summary>TLS and DANE authentication against <see cref="PeerPlan.UsableTlsa"/>.</summary>
    Dane,
    /// <summary>TLS and WebPKI chain + <see cref="PeerPlan.ReferenceIdentifiers"/> (`verify`, `secure`).</summary>
    Pkix,
    /// <summary>TLS and a pinned digest (`fingerprint`).</summary>
    Fingerprint,
    /// <summary>Do not contact this peer on this attempt (<see cref="PeerPlan.Why"/> says why); try the next.</summary>
    Skip,
}

/// <param name="Host">The MX exchange (or route host) without trailing dot; the address text for a literal route.</param>
/// <param name="Level">The destination's level, as recorded in policy_level.</param>
/// <param name="Tlsa">The secure TLSA RRset as published (empty unless <see cref="TlsaStatus"/> is Secure).</param>
/// <param name="UsableTlsa">What DANE verification will use (RFC 7672 §3.1, RFC 7671 §9).</param>
/// <param name="Sni">Server name to send: the TLSA base domain under DANE (RFC 7672 §8.1), else the host name.</param>
/// <param name="CleartextFallbackAllowed">May the message go in cleartext to this peer (no STARTTLS, or after a failed handshake).</param>
/// <param name="Why">Operator text: why this mode and fallback were chosen.</param>
public sealed record PeerPlan(
    string Host,
    int Preference,
    IReadOnlyList<IPAddress> Addresses,
    PolicyLevel Level,
    PeerMode Mode,
    MxDnssec Mx,
    AddressDnssec AddressStatus,
    TlsaStatus TlsaStatus,
    string? TlsaBaseDomain,
    IReadOnlyList<TlsaAssociation> Tlsa,
    IReadOnlyList<TlsaAssociation> UsableTlsa,
    string? Sni,
    IReadOnlyList<ReferenceIdentifier> ReferenceIdentifiers,
    IReadOnlyList<string> Fingerprints,
    bool CleartextFallbackAllowed,
    string Why)
{
    /// <summary>
    /// The MTA-STS mode that shaped this peer (RFC 8461), null when none did: under Enforce the peer is PKIX against its
    /// MX host name and success is `verified` via `mta-sts`; under Testing the mode is unchanged and only <see cref="Why"/> says more.
    /// </summary>
    public StsMode? Sts { get; init; }

    /// <summary>Under <see cref="StsMode.Testing"/>: what the policy says about this peer, so the classifier can record the
    /// failure enforcement would have caused; null otherwise.</summary>
    public MtaSts.StsTestingFacts? StsTesting { get; init; }

    /// <summary>The peer's recorded history (TOFU, RFC 7435 §3), null when it has none; <see cref="History.PeerHistoryInput.Protected"/>:
    /// the history raised this peer from opportunistic to TLS-required (<see cref="History.PeerHistoryOverlay"/>).</summary>
    public History.PeerHistoryInput? History { get; init; }

    /// <summary>This peer's plan as DNS and policy made it, before its history shaped it (null when history did not): what a
    /// parked session is matched on (history only raises; the session is checked against the raised plan too). Not part of
    /// equality.</summary>
    public PeerPlan? WithoutHistory { get; init; }

    /// <summary>Who requires TLS of this peer, for operator texts: the downgrade protection of its history, or the level in force.</summary>
    public string TlsRequirer => History is { Protected: true } h
        ? $"downgrade protection (TLS with {Host} completed within the last {h.WindowText}; `relay peers forget {Host}` clears it)"
        : $"policy {EffectiveLevel.ToWire()}";

    public bool RequiresTls => Mode is PeerMode.Encrypt or PeerMode.Dane or PeerMode.Pkix or PeerMode.Fingerprint;

    /// <summary>STARTTLS is tried at all (every mode but `none`'s cleartext and Skip).</summary>
    public bool TriesTls => Mode is not (PeerMode.Cleartext or PeerMode.Skip);

    public bool RequiresAuthentication => Mode is PeerMode.Dane or PeerMode.Pkix or PeerMode.Fingerprint;

    /// <summary>The peer's name came from configuration or from a DNSSEC-secure MX RRset.</summary>
    public bool PeerChoiceIsSecure => Mx is MxDnssec.Secure or MxDnssec.Route;

    /// <summary>The level in force for this peer after DANE's decisions ("none" … "fingerprint").</summary>
    public PolicyLevel EffectiveLevel => Mode switch
    {
        PeerMode.Cleartext => PolicyLevel.None,
        PeerMode.Opportunistic => PolicyLevel.May,
        PeerMode.Encrypt => PolicyLevel.Encrypt,
        PeerMode.Dane => Level == PolicyLevel.DaneOnly ? PolicyLevel.DaneOnly : PolicyLevel.Dane,
        _ => Level,
    };

    /// <summary>
    /// By value, lists by content (addresses as a set: resolvers rotate them): plans made alike by separate planning
    /// runs are equal, which is what lets a parked session authenticated under one carry mail under the other.
    /// </summary>
    public bool Equals(PeerPlan? other) => other is not null
        && Host == other.Host && Preference == other.Preference && Level == other.Level && Mode == other.Mode && Mx == other.Mx
        && AddressStatus == other.AddressStatus && TlsaStatus == other.TlsaStatus && TlsaBaseDomain == other.TlsaBaseDomain && Sni == other.Sni
        && CleartextFallbackAllowed == other.CleartextFallbackAllowed && Why == other.Why && Sts == other.Sts && Equals(StsTesting, other.StsTesting)
        && Equals(History, other.History)
        && Addresses.ToHashSet().SetEquals(other.Addresses)
        && Tlsa.SequenceEqual(other.Tlsa) && UsableTlsa.SequenceEqual(other.UsableTlsa)
        && ReferenceIdentifiers.SequenceEqual(other.ReferenceIdentifiers) && Fingerprints.SequenceEqual(other.Fingerprints);

    public override int GetHashCode() => HashCode.Combine(Host, Level, Mode, Mx, TlsaStatus, Sni, Tlsa.Count);
}
