namespace Relay.Db;

// Plain rows crossing the Db boundary. Transport words are the ones of DESIGN.md § Security
// vocabulary; the schema's CHECK constraints reject anything else, so a typo fails loudly.

/// <summary>How a message reached us: the inbound session's transport security.</summary>
public sealed record InboundSecurity(string Transport, string? TlsVersion = null, string? TlsCipher = null, string? ClientSpki = null)
{
    public static InboundSecurity Cleartext { get; } = new("cleartext");

    /// <summary>TLS with a client we did not authenticate: the inbound listener never claims more (it checks no client certificate).</summary>
    public static InboundSecurity Encrypted(string tlsVersion, string tlsCipher, string? clientSpki) => new("encrypted", tlsVersion, tlsCipher, clientSpki);

    public bool IsCleartext => Transport == Cleartext.Transport;
}

public sealed record NewMessage(
    string Sender,
    ReadOnlyMemory<byte> Body,
    string ClientAddress,
    string? ClientHelo,
    InboundSecurity Inbound,
    string? ClientAuth = null,
    string BodyType = "7BIT",
    bool SmtpUtf8 = false,
    bool RequireTls = false,
    string? DsnEnvid = null,
    string? DsnRet = null);

public sealed record NewRecipient(string Address, string? DsnNotify = null, string? DsnOrcpt = null)
{
    /// <summary>The grouping key for delivery: the lower-cased domain of the address.</summary>
    public string NextHop
    {
        get
        {
            var at = Address.LastIndexOf('@');
            return (at < 0 ? Address : Address[(at + 1)..]).ToLowerInvariant();
        }
    }
}

/// <summary>A recipient leased to one delivery worker until <see cref="LeaseExpiresAt"/>.</summary>
public sealed record ClaimedRecipient(
    long RecipientId,
    long MessageId,
    string QueueId,
    string Address,
    string NextHop,
    int Attempts,
    string? DsnNotify,
    string? DsnOrcpt,
    DateTimeOffset ReceivedAt,
    DateTimeOffset LeaseExpiresAt,
    bool BounceRequested = false);

/// <summary>Claimed recipients that share a next hop, so one session can carry them.</summary>
public sealed record NextHopBatch(string NextHop, IReadOnlyList<ClaimedRecipient> Recipients);

/// <summary>What delivery needs of a queued message.</summary>
public sealed record QueuedMessage(
    long Id,
    string QueueId,
    string Sender,
    byte[] Body,
    DateTimeOffset ReceivedAt,
    string BodyType,
    bool SmtpUtf8,
    bool RequireTls,
    string? DsnEnvid,
    string? DsnRet);

public enum RecipientResult { Delivered, Deferred, Bounced }

public static class RecipientResults
{
    /// <summary>The word of recipients.state and attempt_recipients.result.</summary>
    public static string ToWire(RecipientResult result) => result switch
    {
        RecipientResult.Delivered => "delivered",
        RecipientResult.Bounced => "bounced",
        _ => "deferred",
    };
}

public sealed record RecipientOutcome(long RecipientId, RecipientResult Result, string? Reply, DateTimeOffset? NextAttemptAt = null);

/// <summary>
/// One SMTP session with one peer (or a next hop's verdict when no session carried the message), with the full outcome
/// of DESIGN.md § Security vocabulary. <see cref="Transport"/> null: nothing was sent, and <see cref="Reason"/> says why.
/// </summary>
public sealed record AttemptRecord(
    string NextHop,
    string? PeerName,
    string? PeerAddress,
    int? PeerPort,
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    string Stage,
    string? Reply,
    string PolicyLevel,
    string? Transport,
    string How,
    string? Reason,
    string? TlsVersion = null,
    string? TlsCipher = null,
    string? PeerSpkiSha256 = null,
    string? PeerCertSubject = null,
    string? PeerCertChain = null,
    IReadOnlyList<string>? TlsaRecords = null,
    string? TlsaStatus = null,
    string? MxDnssec = null,
    string? AddressDnssec = null,
    string Network = "none",
    string? NetworkReason = null,
    string? ResultType = null,
    TlsRptFacts? TlsRpt = null)
{
    /// <summary>What the session saw of the peer for its history (<see cref="PeerHistoryStore"/>); null when no session opened.</summary>
    public PeerObservation? Observation { get; init; }

    /// <summary>The classifier's possible-downgrade text (delivery_attempts.downgrade_reason); null: not flagged.</summary>
    public string? Downgrade { get; init; }

    /// <summary>The handshake presented a key the peer had not presented before.</summary>
    public bool KeyChanged { get; init; }
}

/// <summary>The facts of one session that peer history remembers, whether or not it carried mail.</summary>
/// <param name="StartTlsOffered">Whether the EHLO before STARTTLS offered it; null when no EHLO was accepted.</param>
/// <param name="TlsEstablished">A TLS handshake completed (its key is the attempt's <see cref="AttemptRecord.PeerSpkiSha256"/>).</param>
public sealed record PeerObservation(bool? StartTlsOffered, bool TlsEstablished);

/// <summary>
/// What an attempt adds to the TLS report of its domain (RFC 8460 §4.4; migration 0006): the policy type and its strings
/// and MX hosts, our source address, and the name the MX gave in its EHLO reply.
/// </summary>
public sealed record TlsRptFacts(string PolicyType, IReadOnlyList<string> PolicyStrings, IReadOnlyList<string> MxHosts,
    string? SendingIp = null, string? ReceivingHelo = null);

public sealed record Page(int Offset = 0, int Limit = 50)
{
    public const int MaxLimit = 500;
    public int SafeLimit => Math.Clamp(Limit, 1, MaxLimit);
    public int SafeOffset => Math.Max(0, Offset);
}
