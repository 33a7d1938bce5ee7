using System.Text.Json;
using Microsoft.Extensions.Logging;
using Relay.Server.Configuration;

namespace Relay.Server.Operations;

/// <summary>
/// The one logger factory of `relay serve`, shared by every role (the web role's ASP.NET Core logs too), in the format
/// <c>Relay:Logging:Format</c> asks for. JSON is Microsoft.Extensions.Logging's own JSON console formatter: one object
/// per line, with the message template's named values under "State", so a log stack can filter on Transport or Reason.
/// </summary>
public static class RelayLogging
{
    private const string Timestamp = "yyyy-MM-ddTHH:mm:ss.fffZ";

    public static ILoggerFactory Create(LogFormat format) => LoggerFactory.Create(builder =>
    {
        if (format == LogFormat.Json)
            builder.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = Timestamp;
                o.JsonWriterOptions = new JsonWriterOptions { Indented = false };
            });
        else
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = Timestamp + " ";
                o.UseUtcTimestamp = true;
            });
        builder.SetMinimumLevel(LogLevel.Information);
        // ASP.NET Core's own information lines (hosting started, each request) are noise next to ours.
        builder.AddFilter("Microsoft", LogLevel.Warning);
        // A start-up failure (a port in use) is thrown to the caller, which reports it in one line; the host's own
        // log of it would add a stack trace.
        builder.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
    });
}
