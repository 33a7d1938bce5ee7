using Relay.Smtp.Protocol;

namespace Relay.Smtp.Server;

/// <summary>Where a server session is. DATA content is read inside <see cref="HasRecipients"/>; BDAT chunks move to <see cref="Chunking"/>.</summary>
public enum SmtpState { Connected, Greeted, InMail, HasRecipients, Chunking }

/// <summary>Conditions a transition may require beyond the state; the session supplies the facts.</summary>
public enum SmtpGuard { None, StartTlsAllowed, AuthAllowed, MailAllowed }

/// <summary>The facts guards are judged on.</summary>
public readonly record struct SessionFacts(bool TlsOffered, bool TlsActive, bool AuthOffered, bool Authenticated, bool AuthRequired);

/// <summary>One row of the table: in <see cref="From"/>, <see cref="Verb"/> is allowed if <see cref="Guard"/> holds and leads to <see cref="Next"/>
/// when its handler succeeds; a row with <see cref="Reject"/> always answers that instead.</summary>
public sealed record SmtpTransition(SmtpState From, SmtpVerb Verb, SmtpGuard Guard, SmtpState Next, SmtpReply? Reject = null);

/// <summary>The outcome of looking a command up: allowed (with the next state) or the reply that refuses it.</summary>
public readonly record struct SmtpDecision(bool Allowed, SmtpState Next, SmtpReply? Reply);

/// <summary>
/// The server state machine as data (RFC 5321 §4.1.4, RFC 3207, RFC 3030, RFC 4954). Anything not in the
/// table is 503 5.5.1. Commands that are valid everywhere (NOOP, HELP, VRFY, QUIT) keep the state; RSET and
/// HELO/EHLO end any transaction.
/// </summary>
public static class SmtpStateTable
{
    private static readonly SmtpState[] All = Enum.GetValues<SmtpState>();
    private static readonly SmtpState[] AfterHelo = [SmtpState.Greeted, SmtpState.InMail, SmtpState.HasRecipients, SmtpState.Chunking];

    public static IReadOnlyList<SmtpTransition> Rows { get; } = Build();

    private static readonly Dictionary<(SmtpState, SmtpVerb), SmtpTransition> Index =
        Rows.ToDictionary(r => (r.From, r.Verb));

    private static List<SmtpTransition> Build()
    {
        var rows = new List<SmtpTransition>();
        foreach (var s in All)
        {
            rows.Add(new(s, SmtpVerb.Noop, SmtpGuard.None, s));
            rows.Add(new(s, SmtpVerb.Help, SmtpGuard.None, s));
            rows.Add(new(s, SmtpVerb.Vrfy, SmtpGuard.None, s));
            rows.Add(new(s, SmtpVerb.Quit, SmtpGuard.None, s));
            rows.Add(new(s, SmtpVerb.Rset, SmtpGuard.None, s == SmtpState.Connected ? SmtpState.Connected : SmtpState.Greeted));
            rows.Add(new(s, SmtpVerb.Helo, SmtpGuard.None, SmtpState.Greeted));
            rows.Add(new(s, SmtpVerb.Ehlo, SmtpGuard.None, SmtpState.Greeted));
        }
        // STARTTLS outside a transaction; afterwards the session starts over in Connected (RFC 3207 §4.2).
        rows.Add(new(SmtpState.Connected, SmtpVerb.StartTls, SmtpGuard.StartTlsAllowed, SmtpState.Connected));
        rows.Add(new(SmtpState.Greeted, SmtpVerb.StartTls, SmtpGuard.StartTlsAllowed, SmtpState.Connected));
        rows.Add(new(SmtpState.Greeted, SmtpVerb.Auth, SmtpGuard.AuthAllowed, SmtpState.Greeted));
        rows.Add(new(SmtpState.Greeted, SmtpVerb.Mail, SmtpGuard.MailAllowed, SmtpState.InMail));
        rows.Add(new(SmtpState.InMail, SmtpVerb.Rcpt, SmtpGuard.None, SmtpState.HasRecipients));
        rows.Add(new(SmtpState.HasRecipients, SmtpVerb.Rcpt, SmtpGuard.None, SmtpState.HasRecipients));
        rows.Add(new(SmtpState.InMail, SmtpVerb.Data, SmtpGuard.None, SmtpState.InMail, Replies.NoValidRecipients));
        rows.Add(new(SmtpState.InMail, SmtpVerb.Bdat, SmtpGuard.None, SmtpState.InMail, Replies.NoValidRecipients));
        rows.Add(new(SmtpState.HasRecipients, SmtpVerb.Data, SmtpGuard.None, SmtpState.Greeted));
        // BDAT: Next is for a non-LAST chunk; the session moves to Greeted after BDAT … LAST.
        rows.Add(new(SmtpState.HasRecipients, SmtpVerb.Bdat, SmtpGuard.None, SmtpState.Chunking));
        rows.Add(new(SmtpState.Chunking, SmtpVerb.Bdat, SmtpGuard.None, SmtpState.Chunking));
        // RFC 3030 §2: a DATA inside a BDAT transaction is a sequence error, so is anything but BDAT/RSET/QUIT/NOOP.
        rows.RemoveAll(r => r.From == SmtpState.Chunking && r.Verb is SmtpVerb.Helo or SmtpVerb.Ehlo or SmtpVerb.Vrfy or SmtpVerb.Help);
        return rows;
    }

    public static SmtpDecision Decide(SmtpState state, SmtpVerb verb, SessionFacts facts)
    {
        if (!Index.TryGetValue((state, verb), out var row))
        {
            if (verb is SmtpVerb.Mail or SmtpVerb.Rcpt or SmtpVerb.Data or SmtpVerb.Bdat && state == SmtpState.Connected)
                return new(false, state, new SmtpReply(503, "5.5.1", "Error: send HELO/EHLO first"));
            if (verb == SmtpVerb.Mail && state is SmtpState.InMail or SmtpState.HasRecipients or SmtpState.Chunking)
                return new(false, state, new SmtpReply(503, "5.5.1", "Error: nested MAIL command"));
            if (verb == SmtpVerb.StartTls && facts.TlsActive) return new(false, state, Replies.TlsAlreadyActive);
            return new(false, state, Replies.BadSequence);
        }
        if (row.Reject is not null) return new(false, state, row.Reject);
        var refusal = row.Guard switch
        {
            SmtpGuard.StartTlsAllowed when facts.TlsActive => Replies.TlsAlreadyActive,
            SmtpGuard.StartTlsAllowed when !facts.TlsOffered => Replies.NotImplemented,
            SmtpGuard.AuthAllowed when !facts.AuthOffered => Replies.NotImplemented,
            SmtpGuard.AuthAllowed when facts.Authenticated => Replies.AlreadyAuthenticated,
            SmtpGuard.AuthAllowed when !facts.TlsActive => Replies.MustIssueStartTls,
            SmtpGuard.MailAllowed when facts.AuthRequired && !facts.Authenticated => new SmtpReply(530, "5.7.0", "Authentication required"),
            _ => null,
        };
        return refusal is null ? new(true, row.Next, null) : new(false, state, refusal);
    }
}
