namespace Relay.Smtp.Protocol;

/// <summary>The fixed replies both sides name; text is what the peer sees.</summary>
public static class Replies
{
    public static readonly SmtpReply Ok = new(250, "2.0.0", "Ok");
    public static readonly SmtpReply SenderOk = new(250, "2.1.0", "Ok");
    public static readonly SmtpReply RecipientOk = new(250, "2.1.5", "Ok");
    public static readonly SmtpReply ResetOk = new(250, "2.0.0", "Ok");
    public static readonly SmtpReply StartMailInput = new(354, null, "End data with <CR><LF>.<CR><LF>");
    public static readonly SmtpReply ReadyToStartTls = new(220, "2.0.0", "Ready to start TLS");
    public static readonly SmtpReply CannotVerify = new(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
    public static readonly SmtpReply Help = new(214, "2.0.0", "See RFC 5321");

    public static readonly SmtpReply LineTooLong = new(500, "5.5.2", "Error: line too long");
    public static readonly SmtpReply CommandUnrecognized = new(500, "5.5.2", "Error: command not recognized");
    public static readonly SmtpReply NulInCommand = new(500, "5.5.2", "Error: NUL character in command");
    public static readonly SmtpReply BadCharacters = new(501, "5.5.2", "Error: invalid characters in command");
    public static readonly SmtpReply BadSequence = new(503, "5.5.1", "Error: bad sequence of commands");
    public static readonly SmtpReply NotImplemented = new(502, "5.5.1", "Error: command not implemented");
    public static readonly SmtpReply TlsAlreadyActive = new(554, "5.5.1", "Error: TLS already active");
    public static readonly SmtpReply ImproperPipelining = new(554, "5.5.0", "Error: improper command pipelining");
    public static readonly SmtpReply RelayDenied = new(554, "5.7.1", "Relay access denied");
    public static readonly SmtpReply TooManyRecipients = new(452, "4.5.3", "Error: too many recipients");
    public static readonly SmtpReply MessageTooBig = new(552, "5.3.4", "Error: message file too big");
    public static readonly SmtpReply TooManyHops = new(554, "5.4.0", "Error: too many hops");
    public static readonly SmtpReply BareLineEnding = new(550, "5.5.2", "Error: bare <CR> or <LF> received; use <CR><LF>");
    public static readonly SmtpReply TextLineTooLong = new(550, "5.6.0", "Error: message line longer than 1000 octets");
    public static readonly SmtpReply LocalError = new(451, "4.3.0", "Error: queue file write error");
    public static readonly SmtpReply Timeout = new(421, "4.4.2", "Error: timeout exceeded");
    public static readonly SmtpReply TooManyErrors = new(421, "4.7.0", "Error: too many errors");
    public static readonly SmtpReply TooManyConnections = new(421, "4.7.0", "Error: too many connections from your address");
    public static readonly SmtpReply ShuttingDown = new(421, "4.3.2", "Service shutting down");
    public static readonly SmtpReply NoValidRecipients = new(554, "5.5.1", "Error: no valid recipients");
    public static readonly SmtpReply SmtpUtf8Required = new(553, "5.6.7", "Error: SMTPUTF8 required for this address");
    public static readonly SmtpReply MustIssueStartTls = new(530, "5.7.0", "Must issue a STARTTLS command first");
    public static readonly SmtpReply RequireTlsWithoutTls = new(530, "5.7.10", "REQUIRETLS needs a TLS session");
    public static readonly SmtpReply AuthSucceeded = new(235, "2.7.0", "Authentication successful");
    public static readonly SmtpReply AuthFailed = new(535, "5.7.8", "Error: authentication failed");
    public static readonly SmtpReply AlreadyAuthenticated = new(503, "5.5.1", "Error: already authenticated");
    public static readonly SmtpReply AuthCancelled = new(501, "5.7.0", "Authentication cancelled");
    public static readonly SmtpReply UnknownRecipient = new(550, "5.1.1", "Recipient address rejected: User unknown");

    public static SmtpReply Syntax(string text) => new(501, "5.5.4", text);
    public static SmtpReply Closing(string host) => new(221, "2.0.0", $"{host} closing connection");
    public static SmtpReply Greeting(string host) => new(220, null, $"{host} ESMTP Relay");
    public static SmtpReply Queued(string id) => new(250, "2.0.0", $"Ok: queued as {id}");
}
