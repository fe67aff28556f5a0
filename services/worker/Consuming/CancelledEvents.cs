using System.Collections.Concurrent;
using MassTransit;
using Workq.Shared.ControlPlane;
using Workq.Shared.Storage;

namespace Workq.Worker.Consuming;

/// <summary>
/// The un-enqueued event ids this instance must skip: a set in memory (checking it costs a hash
/// lookup per event), filled by control-plane messages and reloaded with each registry reconcile.
/// </summary>
public sealed class CancelledEvents(CancelledEventStore store)
{
    private readonly ConcurrentDictionary<Guid, byte> ids = new();

    public bool IsCancelled(Guid id) => !ids.IsEmpty && ids.ContainsKey(id);

    public void Add(Guid id) => ids.TryAdd(id, 0);

    /// <summary>Once skipped and acked, an id will not come again.</summary>
    public void Forget(Guid id) => ids.TryRemove(id, out _);

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        foreach (var id in await store.RecentAsync(cancellationToken)) ids.TryAdd(id, 0);
    }
}

public sealed class EventCancelledConsumer(CancelledEvents cancelled) : IConsumer<EventCancelled>
{
    public Task Consume(ConsumeContext<EventCancelled> context)
    {
        cancelled.Add(context.Message.EventId);
        return Task.CompletedTask;
    }
}
