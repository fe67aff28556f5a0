namespace Workq.Bench.Scenarios;

/// <summary>
/// Scenario 7, issue 13's runner budget: the first event after idle, on a fresh canvas (which has no runner yet, so its
/// first event starts one), against warm events on that canvas right after; and the warm runner's resident memory.
/// </summary>
public sealed class RunnerScenario(WorkqApi api, BenchCluster cluster, BenchOptions options, byte[] payload)
{
    private const string Worker = "cold";
    private const int WarmEvents = 5;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static string CanvasName(int index) => string.Create(CultureInfo.InvariantCulture, $"cold-{index:00}");

    public async Task<ColdStartResult> RunAsync(WaitSink sink, CancellationToken cancellationToken)
    {
        var worker = cluster.Worker ?? throw new InvalidOperationException("The services are not running.");
        if (cluster.Isolation != "canvas") throw new InvalidOperationException(
            $"Cold starts need WORKQ_ISOLATION=canvas, not {cluster.Isolation}.");
        var code = QueueWaitHandlers.EachEvent(sink.Url.ToString());
        var cold = new List<double>();
        var warm = new List<double>();
        var rss = new List<double>();
        // One more than measured: the first cold start also pays for the worker service's own first runner start (JIT
        // of its supervisor code), which a long-running worker has long done.
        for (var i = 0; i <= options.ColdStarts; i++)
        {
            var canvas = CanvasName(i);
            await api.CreateCanvasAsync(canvas, cancellationToken);
            await api.DeployAsync(canvas, Worker, code, 1, cancellationToken);
            await WorkqScenarios.WaitConsumingAsync(cluster, [$"workq.worker.{canvas}.{Worker}"], cancellationToken);
            // Let the deploy's own work (compile, subscribe) settle, so the first event meets a worker that is merely
            // idle.
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var runnersBefore = ProcessSample.Children(worker.Id, "Workq.Runner.dll");
            sink.Drain();
            var first = await OneAsync(canvas, sink, cancellationToken);
            var warmWaits = new List<double>();
            for (var w = 0; w < WarmEvents; w++) warmWaits.Add(await OneAsync(canvas, sink, cancellationToken));
            var started = ProcessSample.Children(worker.Id, "Workq.Runner.dll").Except(runnersBefore).ToList();
            // Exactly one new runner proves the first event was a cold start, and names the process whose memory to
            // read.
            if (started.Count != 1)
                throw new InvalidOperationException($"The first event of canvas {canvas} should have started one " +
                    $"runner process; {started.Count} appeared.");
            if (i == 0) continue;
            cold.Add(first);
            warm.AddRange(warmWaits);
            rss.Add(Megabytes(ProcessSample.TreeRssBytes(started[0])));
        }
        var workerRss = Megabytes(worker.Sample().RssBytes);
        // Their runners would otherwise stay up for WORKQ_RUNNER_IDLE_SECONDS beside the scenarios that follow.
        for (var i = 0; i <= options.ColdStarts; i++) await api.DeleteCanvasAsync(CanvasName(i), cancellationToken);
        return new ColdStartResult(
            Latencies.Of(cold),
            Latencies.Of(warm),
            cold,
            rss.Order().ElementAt(rss.Count / 2),
            rss.Max(),
            rss,
            workerRss,
            WarmEvents);
    }

    /// <summary>
    /// Emits one event and returns the queue wait its handler reported (enqueue → the handler's first line).
    /// </summary>
    private async Task<double> OneAsync(string canvas, WaitSink sink, CancellationToken cancellationToken)
    {
        await api.EmitAsync(api.SingleUrl(canvas, Worker), payload, cancellationToken);
        var clock = Stopwatch.StartNew();
        while (sink.Count == 0)
        {
            if (clock.Elapsed > Patience) throw new TimeoutException(
                $"No queue wait reported from canvas {canvas} within {Patience.TotalSeconds:0} s.");
            await Task.Delay(5, cancellationToken);
        }
        return sink.Drain().Single().Milliseconds;
    }

    private static double Megabytes(long bytes) => Math.Round(bytes / 1024.0 / 1024.0, 1);
}
