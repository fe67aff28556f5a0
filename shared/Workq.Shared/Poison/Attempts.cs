namespace Workq.Shared.Poison;

/// <summary>
/// The failures of messages a loop finds again on every pass (a due row, a cron's tick), counted per message so that
/// the loop can give up on one after <see cref="PoisonGuard.MaxAttempts"/>. In memory, per instance: at most <paramref
/// name="capacity"/> messages are tracked, and past that the counts start over (a message is then tried a few times
/// more, never endlessly).
/// </summary>
public sealed class Attempts<TKey>(int capacity = 10_000) where TKey : notnull
{
    private readonly Lock gate = new();
    private readonly Dictionary<TKey, (int Count, DateTimeOffset FirstFailedAt)> failed = [];

    /// <summary>Counts one more failure of <paramref name="key"/>: how many so far, and when the first was.</summary>
    public (int Count, DateTimeOffset FirstFailedAt) Fail(TKey key, DateTimeOffset now)
    {
        lock (gate)
        {
            if (!failed.TryGetValue(key, out var so))
            {
                if (failed.Count >= capacity) failed.Clear();
                so = (0, now);
            }
            return failed[key] = (so.Count + 1, so.FirstFailedAt);
        }
    }

    /// <summary>The message went through, or was quarantined.</summary>
    public void Forget(TKey key)
    {
        lock (gate) failed.Remove(key);
    }

    public int Count
    {
        get
        {
            lock (gate) return failed.Count;
        }
    }
}
