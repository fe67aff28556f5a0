using System.Collections.Concurrent;

namespace Workq.Worker.Emitting;

/// <summary>
/// Stops a runaway self-emit loop before it floods the broker: when a worker's runs emit to the same
/// worker more than once per run on average (the queue then grows exponentially) and that adds up to
/// many events within a short window, the worker is blocked with a reason naming the loop. The
/// admin can unblock it. A linear chain is left to WORKQ_MAX_EMIT_DEPTH.
/// </summary>
public sealed class LoopGuard(IWorkerBlocker blocker, TimeProvider time, ILogger<LoopGuard> logger)
{
    public const int MinSelfEmits = 1_000;
    public const double MaxSelfEmitsPerRun = 1.2;
    // Long enough that a loop on a loaded machine, split across instances, still reaches the minimum in one window
    // (at 2 s, two instances each running 170 loop runs a second never did).
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    private sealed class Counter
    {
        public long WindowStart;
        public int Runs;
        public int SelfEmits;
        public int Tripped;
    }

    // Per incarnation: the loop of a worker deleted meanwhile neither adds to the new one's count nor blocks it.
    private readonly ConcurrentDictionary<(string Canvas, string Worker, long Incarnation), Counter> counters = new();

    /// <summary>Called after every run with how many events it emitted to its own worker.</summary>
    public void Observe(string canvas, string worker, long incarnation, int selfEmits)
    {
        var counter = counters.GetOrAdd(
            (canvas, worker, incarnation),
            _ => new Counter { WindowStart = time.GetTimestamp() });
        int runs, emits;
        lock (counter)
        {
            var now = time.GetTimestamp();
            if (time.GetElapsedTime(counter.WindowStart, now) > Window)
            {
                counter.WindowStart = now;
                counter.Runs = 0;
                counter.SelfEmits = 0;
            }
            runs = ++counter.Runs;
            emits = counter.SelfEmits += selfEmits;
        }
        if (emits >= MinSelfEmits && emits > runs * MaxSelfEmitsPerRun
            && Interlocked.Exchange(ref counter.Tripped, 1) == 0)
            _ = BlockAsync(canvas, worker, incarnation, runs, emits, counter);
    }

    private async Task BlockAsync(string canvas, string worker, long incarnation, int runs, int emits, Counter counter)
    {
        var reason = $"Runaway self-emit loop: {emits} events emitted to '{worker}' by {runs} of its own runs " +
            $"within {Window.TotalSeconds:0} s. Blocked automatically; fix the code, then ask the admin to unblock.";
        try
        {
            await blocker.BlockAsync(canvas, worker, incarnation, reason, CancellationToken.None);
            logger.LogWarning("Blocked {Canvas}/{Worker}: {Reason}", canvas, worker, reason);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not block runaway worker {Canvas}/{Worker}", canvas, worker);
        }
        finally
        {
            // Armed again for the next loop, once this window is over.
            await Task.Delay(Window, time);
            Interlocked.Exchange(ref counter.Tripped, 0);
        }
    }
}
