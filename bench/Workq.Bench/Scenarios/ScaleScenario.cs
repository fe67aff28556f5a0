namespace Workq.Bench.Scenarios;

/// <summary>
/// Scenario 6: many idle workers on one worker instance. One canvas holds <see
/// cref="BenchOptions.ScaleBigCanvasWorkers"/> workers (for the list latency and the spread load), the rest are dealt
/// over the other canvases.
/// </summary>
public sealed class ScaleScenario(WorkqApi api, BenchCluster cluster, BenchOptions options, byte[] payload)
{
    private const int Concurrency = 10;

    private static string CanvasName(int index) => string.Create(CultureInfo.InvariantCulture, $"scale-{index:000}");

    public async Task<ScaleResult> RunAsync(CancellationToken cancellationToken)
    {
        var worker = cluster.Worker ?? throw new InvalidOperationException("The services are not running.");
        var rssBefore = worker.Sample().RssBytes;
        var big = CanvasName(0);
        var layout = Layout();
        foreach (var canvas in layout.Select(w => w.Canvas).Distinct()) await api.CreateCanvasAsync(
            canvas,
            cancellationToken);

        var clock = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, options.DeployParallelism).Select(async _ =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < layout.Count;)
                await api.DeployAsync(
                    layout[i].Canvas,
                    layout[i].Worker,
                    "return null;",
                    Concurrency,
                    cancellationToken);
        }));
        var deployed = clock.Elapsed;
        await WorkqScenarios.WaitConsumingAsync(
            cluster,
            layout.Select(w => $"workq.worker.{w.Canvas}.{w.Worker}").ToList(),
            cancellationToken);
        var consuming = clock.Elapsed;

        // Idle for a moment, so the RSS is the steady state of many idle workers rather than of compiling them.
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var rssAfter = worker.Sample().RssBytes;

        var listUrl = api.ListUrl(big);
        (await api.GetJsonAsync(listUrl, cancellationToken)).Dispose();
        var list = new List<double>(options.ListRequests);
        for (var i = 0; i < options.ListRequests; i++)
        {
            var started = Stopwatch.GetTimestamp();
            (await api.GetJsonAsync(listUrl, cancellationToken)).Dispose();
            list.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        var bigWorkers = layout.Where(w => w.Canvas == big).Select(w => w.Worker).ToList();
        var body = Payloads.Batch(payload, options.BatchSize, bigWorkers);
        var batches = Math.Max(1, options.ScaleEvents / options.BatchSize);
        var events = (long)batches * options.BatchSize;
        var before = await api.CanvasProcessedAsync(big, cancellationToken);
        var load = Stopwatch.StartNew();
        await WorkqScenarios.EmitBatchesAsync(
            api,
            api.BatchUrl(big),
            body,
            batches,
            options.ParallelBatches,
            cancellationToken);
        var emitted = load.Elapsed;
        await WorkqScenarios.WaitProcessedAsync(
            () => api.CanvasProcessedAsync(big, cancellationToken),
            before + events,
            cancellationToken);
        var spread = new Throughput(events, load.Elapsed.TotalSeconds, emitted.TotalSeconds);

        // Through the API, a few at a time: deleting the virtual host with a thousand quorum queues in it
        // at the end would keep the broker busy for minutes after the bench has finished.
        var canvases = layout.Select(w => w.Canvas).Distinct().ToList();
        var removal = Stopwatch.StartNew();
        var nextCanvas = -1;
        await Task.WhenAll(Enumerable.Range(0, options.DeployParallelism).Select(async _ =>
        {
            for (int i; (i = Interlocked.Increment(ref nextCanvas)) < canvases.Count;) await api.DeleteCanvasAsync(
                canvases[i],
                cancellationToken);
        }));

        return new ScaleResult(canvases.Count, layout.Count, Math.Round(deployed.TotalSeconds, 2),
            Math.Round(consuming.TotalSeconds, 2), Megabytes(rssBefore), Megabytes(rssAfter), bigWorkers
                .Count, Latencies.Of(list), spread,
            Math.Round(removal.Elapsed.TotalSeconds, 2));
    }

    /// <summary>The big canvas's workers first, then the rest dealt round-robin over the other canvases.</summary>
    private List<(string Canvas, string Worker)> Layout()
    {
        var bigCount = Math.Min(options.ScaleBigCanvasWorkers, options.ScaleWorkers);
        var layout = Enumerable.Range(0, bigCount).Select(i => (CanvasName(0), Name(i))).ToList();
        var others = Math.Max(1, options.ScaleCanvases - 1);
        for (
            var i = 0;
            i < options.ScaleWorkers - bigCount;
            i++) layout.Add((CanvasName(1 + i % others), Name(i / others)));
        return layout;
    }

    private static string Name(int index) => string.Create(CultureInfo.InvariantCulture, $"w{index:000}");

    private static double Megabytes(long bytes) => Math.Round(bytes / 1024.0 / 1024.0, 1);
}
