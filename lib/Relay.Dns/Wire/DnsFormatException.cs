namespace Relay.Dns.Wire;

/// <summary>Internal signal from the reader; <see cref="DnsMessage.TryParse"/> turns it into an error value.</summary>
internal sealed class DnsFormatException(string message) : Exception(message);
