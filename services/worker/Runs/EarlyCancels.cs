using System.Collections.Concurrent;

namespace Workq.Worker.Runs;

/// <summary>
/// Cancels (API.md "Cancel") that may come before their run is registered with the host: the consumer let the event
/// through and its status says running, but the run still waits for its canvas's runner to start, say. A host records
/// every cancel here before it looks for the run, and looks here once it registered a run, so one of the two always
/// finds the other. A cancel for a run that never comes here is forgotten after a few minutes.
/// </summary>
public sealed class EarlyCancels(TimeProvider time)
{
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<(string Canvas, Guid Id), (string By, DateTimeOffset At)> cancels = new();
    private DateTimeOffset prunedAt = time.GetUtcNow();

    public void Add(string canvas, Guid eventId, string by)
    {
        var now = time.GetUtcNow();
        cancels[(canvas, eventId)] = (by, now);
        if (now - prunedAt < Keep) return;
        prunedAt = now;
        foreach (var (key, cancel) in cancels)
            if (now - cancel.At >= Keep) cancels.TryRemove(key, out _);
    }

    /// <summary>
    /// Who cancelled the event's run, if anyone did lately. Asked once or twice per run: lookups only, which take no
    /// lock (IsEmpty on an empty dictionary takes them all, and TryRemove its bucket's).
    /// </summary>
    public string? By(string canvas, Guid eventId)
        => cancels.TryGetValue((canvas, eventId), out var cancel) ? cancel.By : null;

    /// <summary>Its run ended: a later attempt is the consumer's to skip (it knows the event is cancelled).</summary>
    public void Forget(string canvas, Guid eventId)
    {
        if (cancels.ContainsKey((canvas, eventId))) cancels.TryRemove((canvas, eventId), out _);
    }
}
