namespace Relay.TestKit.Smtp.Peers;

/// <summary>A transaction a test peer accepted. <see cref="WireData"/> is exactly what came after 354, final dot included.</summary>
public sealed record ReceivedMessage(int Connection, string MailFrom, IReadOnlyList<string> Recipients, byte[] WireData, bool OverTls,
    string? TlsProtocol)
{
    /// <summary>The message with dot-stuffing undone and the terminating dot removed.</summary>
    public string Text
    {
        get
        {
            var text = System.Text.Encoding.UTF8.GetString(WireData);
            if (text.EndsWith(".\r\n", StringComparison.Ordinal)) text = text[..^3];
            return text.Replace("\r\n..", "\r\n.", StringComparison.Ordinal) is var t && t.StartsWith("..", StringComparison.Ordinal) ? t[1..] : t;
        }
    }
}
