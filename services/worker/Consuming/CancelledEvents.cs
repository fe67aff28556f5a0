using System.Collections.Concurrent;
using System.Diagnostics;
using Workq.Shared.Storage;

namespace Workq.Worker.Consuming;

/// <summary>
/// The un-enqueued events this instance must skip: a set in memory (checking it costs a hash
/// lookup per event), filled by control-plane messages and reloaded with each registry reconcile.
/// Keyed by canvas and worker with the id: a canvas that names another's event id on its own route marks only its own.
/// </summary>
public sealed class CancelledEvents(ICancelledMarks store, TimeProvider time)
{
    /// <summary>How often a reload reads every mark the store keeps, forgetting the ids it no longer holds.</summary>
    public static readonly TimeSpan FullEvery = TimeSpan.FromMinutes(10);

    /// <summary>How far before the last read a reload between full ones reads again.</summary>
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(1);

    // When each id was added (Stopwatch ticks): a reload forgets only the ids it could have read.
    private readonly ConcurrentDictionary<(string Canvas, string Worker, Guid Id), long> ids = new();

    // The store's time of the last read, and this instance's of the last full one: reloads come one at a time (the
    // reconciler's loop).
    private DateTimeOffset? lastRead;
    private DateTimeOffset lastFullRead;

    /// <summary>A lookup, which takes no lock (IsEmpty on an empty dictionary would take them all, per event).
    /// </summary>
    public bool IsCancelled(string canvas, string worker, Guid id) => ids.ContainsKey((canvas, worker, id));

    public void Add(string canvas, string worker, Guid id)
        => ids.TryAdd((canvas, worker, id), Stopwatch.GetTimestamp());

    /// <summary>Once skipped and acked, an id will not come again.</summary>
    public void Forget(string canvas, string worker, Guid id) => ids.TryRemove((canvas, worker, id), out _);

    /// <summary>
    /// Reads the store's marks: those made since the last read (and <see cref="Overlap"/> before it, for a mark whose
    /// transaction began before that read and committed after it), and every <see cref="FullEvery"/> all of them. A
    /// full read is the truth: an id the store no longer holds (older than a day, or of a deleted canvas) is forgotten
    /// here too, or the marks of runs cancelled while they ran, which no delivery skips, would pile up for the life of
    /// the process. An id added after the read began stays: its mark is in the store (control writes it before it
    /// tells the instances) but maybe not in this read. Between full reads, a batch of 100,000 cancelled events is
    /// read for <see cref="Overlap"/>, not for the day the store keeps it.
    /// </summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        var readFrom = Stopwatch.GetTimestamp();
        var full = lastRead is null || time.GetUtcNow() - lastFullRead >= FullEvery;
        var read = await store.ReadAsync(full ? null : lastRead - Overlap, cancellationToken);
        foreach (var cancelled in read.Ids) ids.TryAdd(cancelled, readFrom);
        if (full)
        {
            var held = read.Ids.ToHashSet();
            foreach (var (cancelled, added) in ids)
                if (added < readFrom && !held.Contains(cancelled))
                    ids.TryRemove(new KeyValuePair<(string, string, Guid), long>(cancelled, added));
            lastFullRead = time.GetUtcNow();
        }
        lastRead = read.ReadAt;
    }
}
