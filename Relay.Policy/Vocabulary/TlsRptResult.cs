namespace Relay.Policy;

/// <summary>
/// RFC 8460 §4.3 result types: why TLS (or the policy behind it) failed for one attempt. Stored with the attempt, so
/// TLS reports are aggregates of what was recorded, not a second judgement. The `sts-*` types are MTA-STS's (RFC 8460
/// §4.3.2.1): its policy could not be fetched, was malformed, or its HTTPS server's certificate failed WebPKI.
/// </summary>
public enum TlsRptResult
{
    StartTlsNotSupported,
    CertificateHostMismatch,
    CertificateExpired,
    CertificateNotTrusted,
    ValidationFailure,
    TlsaInvalid,
    DnssecInvalid,
    DaneRequired,
    StsPolicyFetchError,
    StsPolicyInvalid,
    StsWebpkiInvalid,
}

public static class TlsRptResultWire
{
    private static readonly string[] Names =
    [
        "starttls-not-supported", "certificate-host-mismatch", "certificate-expired", "certificate-not-trusted",
        "validation-failure", "tlsa-invalid", "dnssec-invalid", "dane-required",
        "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid",
    ];

    public static string ToWire(this TlsRptResult value) =>
        (int)value >= 0 && (int)value < Names.Length ? Names[(int)value] : throw new ArgumentOutOfRangeException(nameof(value), value, null);

    public static TlsRptResult Parse(string? text)
    {
        var index = Array.IndexOf(Names, text?.Trim().ToLowerInvariant());
        return index >= 0 ? (TlsRptResult)index : throw new FormatException($"unknown TLS-RPT result type '{text}'; expected one of {string.Join(", ", Names)}");
    }
}
