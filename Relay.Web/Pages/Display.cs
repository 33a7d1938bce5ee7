using Relay.Policy;

namespace Relay.Web.Pages;

/// <summary>Small display rules the Razor views share (the markup itself is in Components/Shared).</summary>
public static class Display
{
    /// <summary>The row class that marks cleartext (or an unknown word, which claims nothing) for the eye.</summary>
    public static string CleartextRowClass(string? word) =>
        word is not null && (!TransportSecurityWire.TryParse(word, out var t) || t == TransportSecurity.Cleartext) ? $"row-{TransportSecurity.Cleartext.ToWire()}" : "";

    /// <summary>An age in the largest unit that keeps it readable.</summary>
    public static string Age(TimeSpan age) => age.TotalSeconds < 90 ? $"{(int)age.TotalSeconds} s"
        : age.TotalMinutes < 90 ? $"{(int)age.TotalMinutes} min"
        : age.TotalHours < 48 ? $"{(int)age.TotalHours} h"
        : $"{(int)age.TotalDays} d";
}
