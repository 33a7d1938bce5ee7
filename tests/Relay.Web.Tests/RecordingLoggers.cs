using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Relay.Web.Tests;

/// <summary>A logger provider that records every line (level, category, message), for tests that check what is logged.</summary>
internal sealed class RecordingProvider(ConcurrentQueue<(LogLevel, string, string)> lines) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, lines);

    public void Dispose() { }
}

internal sealed class Recorder(string category, ConcurrentQueue<(LogLevel, string, string)> lines) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        lines.Enqueue((logLevel, category, formatter(state, exception)));
}

/// <summary>A logger factory that records every line from Debug up, and the warnings among what it recorded.</summary>
internal static class RecordingLoggers
{
    public static ILoggerFactory Create(ConcurrentQueue<(LogLevel Level, string Category, string Message)> lines) =>
        LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new RecordingProvider(lines)));

    public static List<string> Warnings(ConcurrentQueue<(LogLevel Level, string Category, string Message)> lines) =>
        lines.Where(l => l.Level >= LogLevel.Warning).Select(l => $"{l.Category}: {l.Message}").ToList();
}
