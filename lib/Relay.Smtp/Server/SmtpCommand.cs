namespace Relay.Smtp.Server;

public enum SmtpVerb { Helo, Ehlo, Mail, Rcpt, Data, Bdat, Rset, Noop, Quit, Vrfy, Help, StartTls, Auth }

/// <summary>A parsed command line. Subtypes carry what the verb's syntax defines.</summary>
public record SmtpCommand(SmtpVerb Verb, string Argument);

public sealed record HeloCommand(bool Extended, string Domain) : SmtpCommand(Extended ? SmtpVerb.Ehlo : SmtpVerb.Helo, Domain);

/// <summary><c>MAIL FROM:&lt;path&gt;</c>; <see cref="Sender"/> is null for the null reverse-path <c>&lt;&gt;</c>.</summary>
public sealed record MailCommand(Mailbox? Sender, MailParameters Parameters) : SmtpCommand(SmtpVerb.Mail, "");

/// <summary><c>RCPT TO:&lt;path&gt;</c>; <see cref="Recipient"/> has no domain for the special <c>&lt;postmaster&gt;</c>.</summary>
public sealed record RcptCommand(Mailbox Recipient, RcptParameters Parameters) : SmtpCommand(SmtpVerb.Rcpt, "");

public sealed record BdatCommand(long Size, bool Last) : SmtpCommand(SmtpVerb.Bdat, "");

public sealed record AuthCommand(string Mechanism, string? InitialResponse) : SmtpCommand(SmtpVerb.Auth, Mechanism);

/// <summary>Either a command or the reply that rejects the line; never both.</summary>
public readonly record struct CommandParse(SmtpCommand? Command, Protocol.SmtpReply? Error)
{
    public static implicit operator CommandParse(SmtpCommand command) => new(command, null);
    public static implicit operator CommandParse(Protocol.SmtpReply error) => new(null, error);
}
