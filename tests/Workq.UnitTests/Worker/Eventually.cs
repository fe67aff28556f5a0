using System.Diagnostics;

namespace Workq.UnitTests.Worker;

/// <summary>
/// Waits for what a decision-maker does on a thread of its own (a timer's continuation, a runner's end): polls the
/// condition until it holds, and fails naming what did not happen once the deadline has passed.
/// </summary>
internal static class Eventually
{
    /// <summary>How long a test waits for anything: far more than it takes on a loaded machine.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public static async Task Until(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            if (waited.Elapsed > Deadline) Assert.Fail($"{what}: not within {Deadline.TotalSeconds:0} s");
            await Task.Delay(TimeSpan.FromMilliseconds(5));
        }
    }
}
