namespace Workq.Tests.Infrastructure;

/// <summary>
/// When ./test.sh runs a test class (the trait <see cref="Trait"/>). First, side by side: the tests that mostly wait,
/// in a process of their own, and every other test that may share the machine. Then the tests that must run alone, one
/// collection at a time: they stop this machine's servers or measure time. A class with no phase runs in the first.
/// </summary>
public static class TestPhase
{
    public const string Trait = "Phase";

    /// <summary>
    /// Beside the shared tests, in a process of their own: tests that spend their time waiting (RabbitMQ nodes in
    /// containers through their faults' lengths, crons for real minute boundaries), so they cost the others little.
    /// A collection here that disables parallelization runs last in that process, after the others ended.
    /// </summary>
    public const string Background = "Background";

    /// <summary>After everything else, one collection at a time.</summary>
    public const string Alone = "Alone";
}
