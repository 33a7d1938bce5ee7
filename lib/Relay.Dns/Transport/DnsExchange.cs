using Relay.Dns.Wire;

namespace Relay.Dns.Transport;

/// <summary>What one exchange with one server produced: a response that answers our question, or why not.</summary>
internal readonly record struct DnsExchange(DnsMessage? Response, bool ViaTcp, DnsErrorKind FailureKind, string? Failure)
{
    public static DnsExchange Answer(DnsMessage response, bool viaTcp) => new(response, viaTcp, default, null);
    public static DnsExchange Fail(DnsErrorKind kind, string reason) => new(null, false, kind, reason);

    /// <summary>
    /// The checks that make an off-path forgery need the ID, the port and the question: QR set, same ID,
    /// standard opcode, the question echoed (servers may omit it only when refusing the message).
    /// </summary>
    public static string? Mismatch(DnsMessage query, DnsMessage response)
    {
        if (!response.IsResponse) return "not a response";
        if (response.Id != query.Id) return "wrong ID";
        if (response.Opcode != 0) return "wrong opcode";
        if (response.Questions.Count == 0
            && response.Rcode is DnsRcode.FormErr or DnsRcode.NotImp or DnsRcode.Refused)
            return null;
        if (response.Questions.Count != 1 || !response.Questions[0].Matches(query.Questions[0]))
            return "question not echoed";
        return null;
    }
}
