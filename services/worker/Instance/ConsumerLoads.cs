using System.Collections.Concurrent;
using Workq.Shared.ControlPlane;

namespace Workq.Worker.Instance;

/// <summary>
/// This instance's consumers from start until their last event finished (a cancelled one drains after the supervisor
/// has let go of it), so the load report sees every event still running.
/// </summary>
public sealed class ConsumerLoads
{
    private readonly ConcurrentDictionary<IConsumerLoad, byte> consumers = new();

    public void Add(IConsumerLoad consumer) => consumers.TryAdd(consumer, 0);

    public void Remove(IConsumerLoad consumer) => consumers.TryRemove(consumer, out _);

    /// <summary>
    /// The workers with events in flight here, summed over their consumers (a draining one and its successor run side
    /// by side).
    /// </summary>
    public List<WorkerLoad> Now() =>
        consumers.Keys.Where(c => c.InFlight > 0).GroupBy(c => (c.Canvas, c.Worker))
            .Select(
                g => new WorkerLoad(g.Key.Canvas, g.Key.Worker, g.Sum(c => c.InFlight), g.Count(c => c.IsCancelled)))
            .ToList();

    /// <summary>Every consumer with its prefetch, for the instances view.</summary>
    public List<ConsumerDescription> Describe() =>
        consumers.Keys
            .Select(c => new ConsumerDescription(c.Canvas, c.Worker, c.Concurrency, c.InFlight, c.IsCancelled))
            .OrderBy(c => c.Canvas, StringComparer.Ordinal)
            .ThenBy(c => c.Worker, StringComparer.Ordinal)
            .ToList();
}
