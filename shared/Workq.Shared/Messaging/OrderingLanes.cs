using System.Collections.Concurrent;
using System.Text;
using MassTransit;
using Microsoft.Extensions.Logging;
using Workq.Shared.ControlPlane;
using Workq.Shared.Storage;

namespace Workq.Shared.Messaging;

/// <summary>The rule for an emit's ordering key and the lane it maps to (API.md "Ordering keys").</summary>
public static class OrderingKeys
{
    public const int MaxLength = 128;
    /// <summary>
    /// The lanes a worker gets with its first keyed event; kept per worker (workers.ordering_lanes), so a key's lane
    /// never moves.
    /// </summary>
    public const int Lanes = 8;
    public const string Rule = "1 to 128 characters, no control characters or lone surrogates";

    /// <summary>
    /// Null when <paramref name="key"/> is a valid ordering key (or none); else why not, naming the key.
    /// </summary>
    public static string? Problem(string? key)
    {
        if (key is null) return null;
        if (key.Length is 0 or > MaxLength) return $"the ordering key must be {Rule}; it has {key.Length}.";
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (char.IsHighSurrogate(c) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1])) i++;
            else if (char.IsControl(c)
                || char.IsSurrogate(c)) return $"the ordering key must be {Rule}; it has U+{(int)c:X4}.";
        }
        return null;
    }

    /// <summary>
    /// FNV-1a of the key's UTF-8 bytes: stable across processes and versions, unlike string.GetHashCode.
    /// </summary>
    public static int Lane(string key, int lanes)
    {
        Span<byte> buffer = stackalloc byte[Encoding.UTF8.GetMaxByteCount(MaxLength)];
        var bytes = key.Length <= MaxLength
            ? buffer[..Encoding.UTF8.GetBytes(key, buffer)]
            : Encoding.UTF8.GetBytes(key);
        var hash = 2166136261u;
        foreach (var b in bytes) hash = (hash ^ b) * 16777619u;
        return (int)(hash % (uint)lanes);
    }

    /// <summary>
    /// The lane's binding on the canvas exchange: worker names hold no dots, so it never matches another worker's
    /// binding.
    /// </summary>
    public static string RoutingKey(string worker, int lane) => $"{worker}.lane{lane}";
}

/// <summary>
/// Makes sure a worker has its ordering lanes before a keyed event is published to one (docs/DESIGN.md "Ordering
/// keys"): on the first keyed event for a worker, declares its lanes, records them in its row and tells the worker
/// instances, which start consuming them. Which workers have lanes is cached per process, so this costs one database
/// read per worker per process (read again after a control-plane change of the worker, which may have deleted them),
/// never one per event.
/// </summary>
public sealed class OrderingLanes(
    WorkerStore workers,
    Topology topology,
    IBus controlPlane,
    ILogger<OrderingLanes> logger)
{
    private readonly ConcurrentDictionary<(string Canvas, string Worker), Lazy<Task<int>>> known = new();

    /// <summary>
    /// The routing key of a keyed event; a worker that does not exist gets its default lane, which nothing binds, so
    /// the event is parked as unhandled.
    /// </summary>
    public async ValueTask<string> RoutingKeyAsync(
        string canvas,
        string worker,
        string key,
        CancellationToken cancellationToken)
    {
        var lanes = await LanesAsync(canvas, worker, cancellationToken);
        return OrderingKeys.RoutingKey(worker, OrderingKeys.Lane(key, lanes == 0 ? OrderingKeys.Lanes : lanes));
    }

    /// <summary>
    /// A control-plane change of the worker: it may have been deleted (and its lanes with it), so the next keyed event
    /// reads its row again.
    /// </summary>
    public void Forget(string canvas, string worker) => known.TryRemove((canvas, worker), out _);

    private async Task<int> LanesAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        var entry = known.GetOrAdd((canvas, worker), k => new Lazy<Task<int>>(() => EnsureAsync(k.Canvas, k.Worker)));
        try
        {
            return await entry.Value.WaitAsync(cancellationToken);
        }
        catch when (entry.Value.IsFaulted)
        {
            // Not cached: the next keyed event tries again.
            known.TryRemove(new KeyValuePair<(string, string), Lazy<Task<int>>>((canvas, worker), entry));
            throw;
        }
    }

    // Not the caller's token: the result is shared by every caller, and a declaration on the wire is finished either
    // way. The worker is held meanwhile (its canvas alive, its name locked as deploys and deletions lock it): lanes
    // declared here never outlive a worker or canvas deleted at the same moment.
    private async Task<int> EnsureAsync(string canvas, string worker)
    {
        WorkerStore.WorkerHold hold;
        try
        {
            hold = await workers.HoldAsync(canvas, canvasIncarnation: 0, worker, CancellationToken.None);
        }
        catch (CanvasGoneException)
        {
            return 0;
        }
        int lanes;
        await using (hold)
        {
            if (hold.Worker is not { } record) return 0;
            if (record.OrderingLanes > 0) return record.OrderingLanes;
            try
            {
                await topology.DeclareLanesAsync(canvas, worker, OrderingKeys.Lanes, CancellationToken.None);
            }
            catch
            {
                await topology.DeleteLanesAsync(canvas, worker, OrderingKeys.Lanes, CancellationToken.None);
                throw;
            }
            lanes = await hold.EnableOrderingLanesAsync(OrderingKeys.Lanes, CancellationToken.None);
            await hold.CommitAsync(CancellationToken.None);
        }
        await controlPlane.Publish(new WorkerChanged(canvas, worker));
        logger.LogInformation("Ordering lanes of {Canvas}/{Worker} declared: {Lanes}", canvas, worker, lanes);
        return lanes;
    }
}

/// <summary>
/// Every process that publishes keyed events forgets what it knew of a worker's lanes when the worker changes.
/// </summary>
public sealed class ForgetLanesOnWorkerChanged(OrderingLanes lanes) : IConsumer<WorkerChanged>
{
    public Task Consume(ConsumeContext<WorkerChanged> context)
    {
        lanes.Forget(context.Message.Canvas, context.Message.Worker);
        return Task.CompletedTask;
    }
}
