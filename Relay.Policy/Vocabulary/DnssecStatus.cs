namespace Relay.Policy;

/// <summary>The TLSA lookup for one peer. Absence (<see cref="SecureEmpty"/>), insecurity and failure differ.</summary>
public enum TlsaStatus { Secure, SecureEmpty, Insecure, Bogus, Error, NotQueried }

/// <summary>How the peer's name was chosen: the MX RRset's DNSSEC status, or a configured route.</summary>
public enum MxDnssec { Secure, Insecure, Bogus, Error, Route }

/// <summary>The peer's A/AAAA lookup, or a literal address from configuration.</summary>
public enum AddressDnssec { Secure, Insecure, Bogus, Error, Literal }

/// <summary>Wire words of the attempts table (tlsa_status, mx_dnssec, address_dnssec).</summary>
public static class DnssecStatusWire
{
    public static string ToWire(this TlsaStatus value) => value switch
    {
        TlsaStatus.Secure => "secure",
        TlsaStatus.SecureEmpty => "secure-empty",
        TlsaStatus.Insecure => "insecure",
        TlsaStatus.Bogus => "bogus",
        TlsaStatus.Error => "error",
        TlsaStatus.NotQueried => "not-queried",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, null),
    };

    public static string ToWire(this MxDnssec value) => value switch
    {
        MxDnssec.Secure => "secure",
        MxDnssec.Insecure => "insecure",
        MxDnssec.Bogus => "bogus",
        MxDnssec.Error => "error",
        MxDnssec.Route => "route",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, null),
    };

    public static string ToWire(this AddressDnssec value) => value switch
    {
        AddressDnssec.Secure => "secure",
        AddressDnssec.Insecure => "insecure",
        AddressDnssec.Bogus => "bogus",
        AddressDnssec.Error => "error",
        AddressDnssec.Literal => "literal",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, null),
    };

    public static TlsaStatus ParseTlsaStatus(string? text) =>
        Enum.GetValues<TlsaStatus>().FirstOrDefault(v => v.ToWire() == text?.Trim().ToLowerInvariant(), (TlsaStatus)(-1)) is var v && (int)v >= 0
            ? v : throw new FormatException($"unknown TLSA status '{text}'");

    public static MxDnssec ParseMxDnssec(string? text) =>
        Enum.GetValues<MxDnssec>().FirstOrDefault(v => v.ToWire() == text?.Trim().ToLowerInvariant(), (MxDnssec)(-1)) is var v && (int)v >= 0
            ? v : throw new FormatException($"unknown MX DNSSEC status '{text}'");

    public static AddressDnssec ParseAddressDnssec(string? text) =>
        Enum.GetValues<AddressDnssec>().FirstOrDefault(v => v.ToWire() == text?.Trim().ToLowerInvariant(), (AddressDnssec)(-1)) is var v && (int)v >= 0
            ? v : throw new FormatException($"unknown address DNSSEC status '{text}'");
}
