using System.Collections.Concurrent;
using System.Diagnostics;
using Workq.Shared.Storage;

namespace Workq.Worker.Consuming;

/// <summary>
/// The un-enqueued events this instance must skip: a set in memory (checking it costs a hash
/// lookup per event), filled by control-plane messages and reloaded with each registry reconcile.
/// Keyed by canvas and worker with the id: a canvas that names another's event id on its own route marks only its own.
/// </summary>
public sealed class CancelledEvents(ICancelledMarks store)
{
    // When each id was added (Stopwatch ticks): a reload forgets only the ids it could have read.
    private readonly ConcurrentDictionary<(string Canvas, string Worker, Guid Id), long> ids = new();

    /// <summary>A lookup, which takes no lock (IsEmpty on an empty dictionary would take them all, per event).
    /// </summary>
    public bool IsCancelled(string canvas, string worker, Guid id) => ids.ContainsKey((canvas, worker, id));

    public void Add(string canvas, string worker, Guid id)
        => ids.TryAdd((canvas, worker, id), Stopwatch.GetTimestamp());

    /// <summary>Once skipped and acked, an id will not come again.</summary>
    public void Forget(string canvas, string worker, Guid id) => ids.TryRemove((canvas, worker, id), out _);

    /// <summary>
    /// The store's marks, which it keeps a day, are the truth: an id it no longer holds (older, or of a deleted
    /// canvas) is forgotten here too, or the marks of runs cancelled while they ran, which no delivery skips, would
    /// pile up for the life of the process. An id added after the read began stays: its mark is in the store (control
    /// writes it before it tells the instances) but maybe not in this read.
    /// </summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        var readFrom = Stopwatch.GetTimestamp();
        var recent = (await store.RecentAsync(cancellationToken)).ToHashSet();
        foreach (var cancelled in recent) ids.TryAdd(cancelled, readFrom);
        foreach (var (cancelled, added) in ids)
            if (added < readFrom && !recent.Contains(cancelled))
                ids.TryRemove(new KeyValuePair<(string, string, Guid), long>(cancelled, added));
    }
}
