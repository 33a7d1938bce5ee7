using System.Security.Cryptography.X509Certificates;

namespace Relay.TestKit.Smtp.Peers;

/// <summary>How a <see cref="ScriptedSmtpPeer"/> behaves. Defaults: a well-behaved ESMTP server with STARTTLS.</summary>
public sealed record PeerScript
{
    public string Name { get; init; } = "peer.test";
    /// <summary>The whole greeting line(s) without the final CRLF, e.g. "554 go away".</summary>
    public string Greeting { get; init; } = "220 peer.test ESMTP scripted";
    /// <summary>Say nothing after accepting the connection (a tarpit): the client's greeting deadline must end it.</summary>
    public bool SilentGreeting { get; init; }
    public bool OfferStartTls { get; init; } = true;
    public bool Pipelining { get; init; } = true;
    public bool EightBitMime { get; init; } = true;
    public bool AcceptEhlo { get; init; } = true;
    public long? Size { get; init; }
    /// <summary>Announce REQUIRETLS (RFC 8689) in the EHLO reply after STARTTLS, and only there.</summary>
    public bool OfferRequireTls { get; init; }
    /// <summary>Certificate for STARTTLS; a self-signed one for <see cref="Name"/> when null.</summary>
    public X509Certificate2? Certificate { get; init; }
    /// <summary>Intermediates/CA sent after the leaf in the handshake (for DANE-TA).</summary>
    public X509Certificate2Collection? Chain { get; init; }
    /// <summary>The reply to STARTTLS; anything but 2xx refuses TLS.</summary>
    public string StartTlsReply { get; init; } = "220 2.0.0 ready to start TLS";
    /// <summary>Bytes sent in the same write right after the 220 to STARTTLS: a response injection attack.</summary>
    public string? InjectAfterStartTls { get; init; }
    /// <summary>After the 220 to STARTTLS, send plain text instead of a TLS handshake and hang up.</summary>
    public bool BreakHandshake { get; init; }
    public string MailReply { get; init; } = "250 2.1.0 ok";
    /// <summary>Reply per RCPT address; default 250.</summary>
    public Func<string, string>? RcptReply { get; init; }
    /// <summary>The reply to the DATA command itself; by default 354 when a transaction is open, else 554. A 354 here is
    /// given even when no recipient was accepted (a server breaking RFC 2920 §3.1's rule).</summary>
    public string? DataCommandReply { get; init; }
    /// <summary>Reply after the end of data, given the 1-based count of DATA phases so far on this peer; default 250.</summary>
    public Func<int, string>? DataReply { get; init; }
    /// <summary>Hang up after reading the data instead of replying to the final dot.</summary>
    public bool DropAtDot { get; init; }
    /// <summary>Hang up without a reply to MAIL, given the 1-based count of MAIL commands on this connection: a peer that
    /// closed a session the client had parked, the instant before the client used it again.</summary>
    public Func<int, bool>? DropAtMail { get; init; }
}
