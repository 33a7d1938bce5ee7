namespace Relay.Dns;

/// <summary>Why a query produced no usable answer.</summary>
public enum DnsErrorKind
{
    /// <summary>No server answered before the deadline.</summary>
    Timeout,
    /// <summary>A server answered REFUSED or NOTIMP.</summary>
    Refused,
    /// <summary>An answer did not parse, or a CNAME chain was broken or too long.</summary>
    Malformed,
    /// <summary>SERVFAIL (or another failure rcode) from a server we do not trust to validate.</summary>
    ServerFailure,
    /// <summary>Socket errors: unreachable, connection refused, …</summary>
    Network,
    /// <summary>The name or type cannot be asked (not a domain name, OPT, …).</summary>
    BadQuery,
}

/// <summary>
/// The outcome of one lookup. A closed hierarchy (the constructor is private): callers switch over
/// <see cref="Secure"/>, <see cref="Insecure"/>, <see cref="NxDomain"/>, <see cref="NoData"/>,
/// <see cref="Bogus"/> and <see cref="Error"/>. Absence, insecurity and failure are different values.
/// <see cref="Secure"/> is only produced for AD=1 from a server marked trusted.
/// </summary>
public abstract class DnsResult
{
    private DnsResult(string name, DnsType type, DnsCnameChain? chain, DnsRcode rcode, DnsServer? server, bool viaTcp)
    {
        Name = DnsName.TryNormalize(name, out var n) ? n : name;
        Type = type;
        Chain = chain ?? DnsCnameChain.None(Name);
        Rcode = rcode;
        Server = server;
        ViaTcp = viaTcp;
    }

    /// <summary>The name that was asked (canonical presentation).</summary>
    public string Name { get; }
    public DnsType Type { get; }

    /// <summary>CNAME links followed; empty when the name was not an alias.</summary>
    public DnsCnameChain Chain { get; }

    /// <summary>The response code of the final answer (SERVFAIL for <see cref="Bogus"/>; NOERROR for local errors).</summary>
    public DnsRcode Rcode { get; }

    /// <summary>The server that gave the final answer; null when none did.</summary>
    public DnsServer? Server { get; }

    /// <summary>True when the answer came over TCP (after TC=1).</summary>
    public bool ViaTcp { get; }

    /// <summary>"secure", "insecure", "bogus" or "error": the words of `relay dns --json`.</summary>
    public abstract string Status { get; }

    /// <summary>The records of the answer as <typeparamref name="T"/>; empty for every non-answer.</summary>
    public IReadOnlyList<T> RecordsOf<T>() where T : DnsRecord => this switch
    {
        Secure s => s.Records.OfType<T>().ToArray(),
        Insecure i => i.Records.OfType<T>().ToArray(),
        _ => [],
    };

    /// <summary>Validated by a trusted resolver (AD=1). <see cref="Records"/> is never empty.</summary>
    public sealed class Secure(string name, DnsType type, IReadOnlyList<DnsRecord> records, uint ttl,
        DnsCnameChain? chain = null, DnsServer? server = null, bool viaTcp = false)
        : DnsResult(name, type, chain, DnsRcode.NoError, server, viaTcp)
    {
        public IReadOnlyList<DnsRecord> Records { get; } = NonEmpty(records);
        public uint Ttl { get; } = ttl;
        public override string Status => "secure";
    }

    /// <summary>Records that were not validated (unsigned zone, or AD=0, or an untrusted server).</summary>
    public sealed class Insecure(string name, DnsType type, IReadOnlyList<DnsRecord> records, uint ttl,
        DnsCnameChain? chain = null, DnsServer? server = null, bool viaTcp = false)
        : DnsResult(name, type, chain, DnsRcode.NoError, server, viaTcp)
    {
        public IReadOnlyList<DnsRecord> Records { get; } = NonEmpty(records);
        public uint Ttl { get; } = ttl;
        public override string Status => "insecure";
    }

    /// <summary>The (expanded) name does not exist; <see cref="IsSecure"/> when the denial was validated.</summary>
    public sealed class NxDomain(string name, DnsType type, bool isSecure, uint negativeTtl,
        DnsCnameChain? chain = null, DnsServer? server = null, bool viaTcp = false)
        : DnsResult(name, type, chain, DnsRcode.NxDomain, server, viaTcp)
    {
        public bool IsSecure { get; } = isSecure;
        public uint NegativeTtl { get; } = negativeTtl;
        public override string Status => IsSecure ? "secure" : "insecure";
    }

    /// <summary>The name exists but has no records of this type; <see cref="IsSecure"/> when validated.</summary>
    public sealed class NoData(string name, DnsType type, bool isSecure, uint negativeTtl,
        DnsCnameChain? chain = null, DnsServer? server = null, bool viaTcp = false)
        : DnsResult(name, type, chain, DnsRcode.NoError, server, viaTcp)
    {
        public bool IsSecure { get; } = isSecure;
        public uint NegativeTtl { get; } = negativeTtl;
        public override string Status => IsSecure ? "secure" : "insecure";
    }

    /// <summary>A trusted validating resolver answered SERVFAIL: validation failed (or could not be done).
    /// Must never be treated as "no records" (RFC 7672 §2.1.1).</summary>
    public sealed class Bogus(string name, DnsType type, ushort? extendedErrorCode, string? extendedErrorText,
        DnsCnameChain? chain = null, DnsServer? server = null, bool viaTcp = false)
        : DnsResult(name, type, chain, DnsRcode.ServFail, server, viaTcp)
    {
        /// <summary>RFC 8914 INFO-CODE when the resolver sent one (6 = DNSSEC Bogus, 7 = Signature Expired, …).</summary>
        public ushort? ExtendedErrorCode { get; } = extendedErrorCode;
        public string? ExtendedErrorText { get; } = extendedErrorText;
        public override string Status => "bogus";
    }

    /// <summary>No trustworthy answer: timeout, refusal, malformed data, failure from an untrusted server.</summary>
    public sealed class Error(string name, DnsType type, DnsErrorKind kind, string reason,
        DnsRcode rcode = DnsRcode.NoError, DnsCnameChain? chain = null, DnsServer? server = null)
        : DnsResult(name, type, chain, rcode, server, viaTcp: false)
    {
        public DnsErrorKind Kind { get; } = kind;
        public string Reason { get; } = reason;
        public override string Status => "error";
    }

    private static IReadOnlyList<DnsRecord> NonEmpty(IReadOnlyList<DnsRecord> records) =>
        records.Count > 0 ? records.ToArray() : throw new ArgumentException("an answer needs at least one record; use NoData");

    public override string ToString() => this switch
    {
        Secure s => $"{Name} {DnsTypes.ToText(Type)}: secure, {s.Records.Count} record(s), ttl {s.Ttl}",
        Insecure i => $"{Name} {DnsTypes.ToText(Type)}: insecure, {i.Records.Count} record(s), ttl {i.Ttl}",
        NxDomain n => $"{Name} {DnsTypes.ToText(Type)}: NXDOMAIN ({n.Status})",
        NoData d => $"{Name} {DnsTypes.ToText(Type)}: no data ({d.Status})",
        Bogus b => $"{Name} {DnsTypes.ToText(Type)}: bogus{(b.ExtendedErrorCode is { } c ? $" (EDE {c}{(b.ExtendedErrorText is { } t ? ": " + t : "")})" : "")}",
        Error e => $"{Name} {DnsTypes.ToText(Type)}: error ({e.Kind}: {e.Reason})",
        _ => base.ToString() ?? "",
    };
}
