using System.Globalization;
using System.Net;
using System.Text;

namespace Relay.Smtp.Server;

/// <summary>What the Received: trace field states about the hop; nothing in it is taken from the client unchecked.</summary>
public sealed record ReceivedInfo(
    string? Helo,
    IPAddress ClientAddress,
    string Hostname,
    bool Extended,
    string? TlsVersion,
    string? TlsCipher,
    bool ClientCertificateVerified,
    bool Authenticated,
    string? Id,
    string? ForRecipient,
    DateTimeOffset Date);

/// <summary>
/// Builds the RFC 5321 §4.4 trace field. The protocol word follows RFC 3848: <c>ESMTPS</c>/<c>ESMTPSA</c> only
/// when TLS really was active; TLS version and cipher go in a comment (as Postfix writes them), with an
/// explicit note that no client certificate was verified, so the header never claims more than happened.
/// </summary>
public static class ReceivedHeader
{
    public static byte[] Build(ReceivedInfo info)
    {
        var tls = info.TlsVersion is not null;
        var with = (info.Extended ? "ESMTP" : "SMTP") + (tls && info.Extended ? "S" : "") + (info.Authenticated && info.Extended ? "A" : "");
        var builder = new StringBuilder();
        builder.Append("Received: from ").Append(Clean(info.Helo ?? "unknown"))
            .Append(" ([").Append(Literal(info.ClientAddress)).Append("])\r\n");
        if (tls)
            builder.Append("\t(using ").Append(Clean(info.TlsVersion!)).Append(" with cipher ").Append(Clean(info.TlsCipher ?? "unknown"))
                .Append(info.ClientCertificateVerified ? "; client certificate verified" : "; no client certificate verified").Append(")\r\n");
        builder.Append("\tby ").Append(Clean(info.Hostname)).Append(" (Relay) with ").Append(with);
        if (info.Id is not null) builder.Append(" id ").Append(Clean(info.Id));
        builder.Append("\r\n");
        if (info.ForRecipient is not null) builder.Append("\tfor <").Append(Clean(info.ForRecipient)).Append(">");
        else builder.Append('\t');
        builder.Append("; ").Append(info.Date.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture)).Append("\r\n");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>
    /// Puts the trace field in front of the content. Content that begins with SP or HTAB would continue our field
    /// (a client could append "with ESMTPS (using TLSv1.3 …)" to it), so such content, which has no valid header
    /// section anyway, is separated by an empty line and becomes body.
    /// </summary>
    public static byte[] Prepend(ReadOnlySpan<byte> field, ReadOnlySpan<byte> content)
    {
        var separate = content.Length > 0 && content[0] is (byte)' ' or (byte)'\t';
        var result = new byte[field.Length + (separate ? 2 : 0) + content.Length];
        field.CopyTo(result);
        if (separate) "\r\n"u8.CopyTo(result.AsSpan(field.Length));
        content.CopyTo(result.AsSpan(field.Length + (separate ? 2 : 0)));
        return result;
    }

    private static string Literal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6:" + address : address.ToString();
    }

    // Client-chosen words (the HELO name, a recipient) may not open or close comments or break the line.
    private static string Clean(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text) builder.Append(c is '(' or ')' or '\\' or '<' or '>' || c < 0x21 || c == 0x7f ? '?' : c);
        return builder.ToString();
    }
}
