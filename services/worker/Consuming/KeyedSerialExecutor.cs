namespace Workq.Worker.Consuming;

/// <summary>
/// Runs work one at a time per key, in the order it was added; different keys run side by side. Each key holds only the
/// tail of its chain, dropped once the chain is empty, so memory follows the keys in flight, not the keys ever seen.
/// </summary>
public sealed class KeyedSerialExecutor
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Task> tails = new(StringComparer.Ordinal);
    private int pending;

    /// <summary>Work added and not finished (waiting for its predecessor, or running).</summary>
    public int Pending => Volatile.Read(ref pending);

    /// <summary>Keys with work in their chain.</summary>
    public int Keys
    {
        get
        {
            lock (gate) return tails.Count;
        }
    }

    /// <summary>
    /// Chains <paramref name="run"/> after the key's last work; it never runs on the caller's thread. A fault ends that
    /// work only.
    /// </summary>
    public Task Add(string key, Func<Task> run)
    {
        Interlocked.Increment(ref pending);
        Task next;
        lock (gate)
        {
            next = RunAfterAsync(tails.GetValueOrDefault(key), run);
            tails[key] = next;
        }
        _ = next.ContinueWith(_ =>
        {
            lock (gate)
            {
                if (tails.TryGetValue(key, out var tail) && tail == next) tails.Remove(key);
            }
            Interlocked.Decrement(ref pending);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return next;
    }

    // Forced to yield: the caller holds the lock, and a consumer callback must return at once.
    private static async Task RunAfterAsync(Task? previous, Func<Task> run)
    {
        await (previous ?? Task.CompletedTask).ConfigureAwait(
            ConfigureAwaitOptions.ForceYielding | ConfigureAwaitOptions.SuppressThrowing);
        await run();
    }
}
