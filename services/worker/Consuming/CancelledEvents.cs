using System.Collections.Concurrent;
using Workq.Shared.Storage;

namespace Workq.Worker.Consuming;

/// <summary>
/// The un-enqueued events this instance must skip: a set in memory (checking it costs a hash
/// lookup per event), filled by control-plane messages and reloaded with each registry reconcile.
/// Keyed by canvas and worker with the id: a canvas that names another's event id on its own route marks only its own.
/// </summary>
public sealed class CancelledEvents(CancelledEventStore store)
{
    private readonly ConcurrentDictionary<(string Canvas, string Worker, Guid Id), byte> ids = new();

    public bool IsCancelled(string canvas, string worker, Guid id)
        => !ids.IsEmpty && ids.ContainsKey((canvas, worker, id));

    public void Add(string canvas, string worker, Guid id) => ids.TryAdd((canvas, worker, id), 0);

    /// <summary>Once skipped and acked, an id will not come again.</summary>
    public void Forget(string canvas, string worker, Guid id) => ids.TryRemove((canvas, worker, id), out _);

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        foreach (var cancelled in await store.RecentAsync(cancellationToken)) ids.TryAdd(cancelled, 0);
    }
}
