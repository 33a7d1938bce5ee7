using Xunit.Abstractions;

namespace Relay.Resilience.Tests;

/// <summary>
/// What one scenario counted. Printed as one line (`resilience: scenario=… sent=… …`) to the test output and, when
/// RELAY_RESILIENCE_FIGURES names a file, appended there (bench/soak collects the lines of every round).
/// </summary>
/// <param name="Sent">messages whose final dot the clients wrote (or that were enqueued directly)</param>
/// <param name="Acknowledged">messages a client saw `250` for</param>
/// <param name="Delivered">distinct messages the counting peer accepted</param>
/// <param name="Duplicates">extra copies at the peer</param>
/// <param name="Lost">acknowledged messages that never arrived</param>
/// <param name="Recovery">the scenario's recovery time (what is measured is named in <paramref name="Note"/>)</param>
public sealed record Figures(string Scenario, int Sent, int Acknowledged, int Delivered, int Duplicates, int Lost, TimeSpan Recovery, string Note = "")
{
    public const string FileVariable = "RELAY_RESILIENCE_FIGURES";

    public string Line => $"resilience: scenario={Scenario} scale={Soak.Scale} sent={Sent} acknowledged={Acknowledged} delivered={Delivered} " +
                          $"duplicates={Duplicates} lost={Lost} recovery={Recovery.TotalSeconds:0.00}s{(Note.Length > 0 ? " " + Note : "")}";

    public void Print(ITestOutputHelper output)
    {
        output.WriteLine(Line);
        var file = Environment.GetEnvironmentVariable(FileVariable);
        if (!string.IsNullOrWhiteSpace(file))
            lock (typeof(Figures)) File.AppendAllText(file, $"{DateTimeOffset.UtcNow:O} {Line}\n");
    }
}
