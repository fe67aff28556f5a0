using System.Diagnostics.Metrics;
using Workq.Shared.Messaging;
using Workq.Shared.Telemetry;

namespace Workq.Control.Stats;

/// <summary>
/// Reports every worker's queue depth (events ready) as the gauge <c>workq.queue.depth</c>, from the
/// stats cache. The cache is refreshed on a slow timer, and only while something collects the gauge,
/// so an instance that exports nothing asks the broker nothing more.
/// </summary>
public sealed class QueueDepthGauge(QueueStats stats, ILogger<QueueDepthGauge> logger) : BackgroundService
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(10);
    private static readonly string Prefix = Topology.WorkerQueue("", "")[..^1];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var gauge = WorkqDiagnostics.Meter
            .CreateObservableGauge("workq.queue.depth", Observe, "{event}", "Events ready in each worker's queue.");
        using var timer = new PeriodicTimer(RefreshEvery);
        try
        {
            do
            {
                if (gauge.Enabled) await stats.RefreshAsync(stoppingToken);
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Queue depth gauge stopped refreshing");
        }
    }

    private IEnumerable<Measurement<long>> Observe()
    {
        if (stats.Cached is not { } queues) yield break;
        var depths = new Dictionary<(string Canvas, string Worker), long>();
        foreach (var (queue, ready) in queues)
        {
            // workq.worker.{canvas}.{worker}[.lane{i}|.high|.low]: names cannot hold dots, so the first one after the
            // prefix splits them, and an ordering lane's or a priority queue's depth counts for its worker.
            if (!queue.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            var dot = queue.IndexOf('.', Prefix.Length);
            if (dot < 0) continue;
            var lane = queue.IndexOf('.', dot + 1);
            var key = (queue[Prefix.Length..dot], lane < 0 ? queue[(dot + 1)..] : queue[(dot + 1)..lane]);
            depths[key] = depths.GetValueOrDefault(key) + ready;
        }
        foreach (var ((canvas, worker), ready) in depths) yield return new Measurement<long>(
            ready,
            WorkqDiagnostics.Tags(canvas, worker));
    }
}
