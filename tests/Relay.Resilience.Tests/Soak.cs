namespace Relay.Resilience.Tests;

/// <summary>
/// How hard the scenarios push. CI runs scale 1 (the whole project in a few minutes); bench/soak sets
/// RELAY_RESILIENCE_SCALE higher and repeats the run until its time is up. Every count in the suite is
/// "CI count × Scale", so a soak round is the same scenario, only longer.
/// </summary>
public static class Soak
{
    public const string ScaleVariable = "RELAY_RESILIENCE_SCALE";

    public static int Scale { get; } = int.TryParse(Environment.GetEnvironmentVariable(ScaleVariable), out var s) && s is >= 1 and <= 1000 ? s : 1;

    public static int Times(int ciCount) => ciCount * Scale;
}
