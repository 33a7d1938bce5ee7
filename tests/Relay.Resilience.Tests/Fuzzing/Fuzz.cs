using System.Diagnostics;
using Xunit.Abstractions;

namespace Relay.Resilience.Tests.Fuzzing;

/// <summary>
/// Runs a parser over mutations of a corpus. The parser may answer anything (a value, need-more-data, its own
/// error) but may not throw anything except the exception types named as its own, and may not take longer than the
/// per-input deadline. Each target runs "CI iterations × Soak.Scale" inputs from a fixed seed.
/// </summary>
public static class Fuzz
{
    public static readonly TimeSpan PerInputDeadline = TimeSpan.FromSeconds(2);

    /// <returns>how many inputs the parser accepted (as opposed to refused with its own error)</returns>
    public static int Run(ITestOutputHelper output, string name, int seed, int ciIterations, IReadOnlyList<byte[]> corpus,
        Func<byte[], bool> parse, params Type[] ownErrors) => Run(output, name, seed, ciIterations, corpus, parse, corpusIsValid: true, ownErrors);

    /// <param name="corpusIsValid">every corpus entry must be accepted (false where some entries are legitimately empty answers)</param>
    public static int Run(ITestOutputHelper output, string name, int seed, int ciIterations, IReadOnlyList<byte[]> corpus,
        Func<byte[], bool> parse, bool corpusIsValid, params Type[] ownErrors)
    {
        Assert.NotEmpty(corpus);
        // The corpus itself is valid input: a target that refuses it is not exercising the parser's happy paths.
        foreach (var input in corpus)
            if (!RunOne(parse, input, ownErrors, name, -1) && corpusIsValid) Assert.Fail($"{name}: corpus entry refused: {Show(input)}");
        var mutator = new Mutator(seed);
        var iterations = Soak.Times(ciIterations);
        var accepted = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            var input = mutator.Mutate(corpus[mutator.Next(corpus.Count)], corpus);
            if (RunOne(parse, input, ownErrors, name, i)) accepted++;
        }
        var line = $"resilience: fuzz={name} seed={seed} iterations={iterations} accepted={accepted} refused={iterations - accepted} elapsed={clock.Elapsed.TotalSeconds:0.0}s";
        output.WriteLine(line);
        var file = Environment.GetEnvironmentVariable(Figures.FileVariable);
        if (!string.IsNullOrWhiteSpace(file)) lock (typeof(Figures)) File.AppendAllText(file, $"{DateTimeOffset.UtcNow:O} {line}\n");
        return accepted;
    }

    private static bool RunOne(Func<byte[], bool> parse, byte[] input, Type[] ownErrors, string name, int iteration)
    {
        // On a worker thread so that a parser stuck in a loop fails the test instead of hanging it.
        var task = Task.Run(() => parse(input));
        try
        {
            if (!task.Wait(PerInputDeadline))
                Assert.Fail($"{name} iteration {iteration}: no answer within {PerInputDeadline} for {Show(input)}");
            return task.Result;
        }
        catch (AggregateException e) when (e.InnerException is { } inner && ownErrors.Any(t => t.IsInstanceOfType(inner)))
        {
            return false;
        }
        catch (AggregateException e)
        {
            Assert.Fail($"{name} iteration {iteration}: {e.InnerException!.GetType().Name}: {e.InnerException.Message} for {Show(input)}\n{e.InnerException.StackTrace}");
            return false;
        }
    }

    private static string Show(byte[] input) =>
        input.Length <= 300 ? $"[{Convert.ToHexString(input)}] \"{System.Text.Encoding.Latin1.GetString(input).ReplaceLineEndings("⏎")}\"" : $"{input.Length} bytes starting [{Convert.ToHexString(input[..300])}]";
}
