namespace Workq.Bench.Scenarios;

/// <summary>
/// Workq end to end through its HTTP APIs: batch throughput, single-emit latency, and queue wait under paced load.
/// </summary>
public sealed class WorkqScenarios(WorkqApi api, BenchCluster cluster, BenchOptions options, byte[] payload)
{
    public const string Canvas = "bench";
    private const string Noop = "noop";
    private const string Timed = "timed";
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan WaitWarmup = TimeSpan.FromSeconds(10);
    /// <summary>
    /// A queue wait past this is slow: its 100 ms step counts in the run's <see cref="WaitTimeline"/>.
    /// </summary>
    private const double SlowWaitMs = 50;
    private static readonly string[] Queues = [$"workq.worker.{Canvas}.{Noop}", $"workq.worker.{Canvas}.{Timed}"];

    public WorkqApi Api => api;

    /// <summary>
    /// A canvas with the trivial worker and the one that reports its queue wait to <paramref name="sink"/>.
    /// </summary>
    public async Task SetUpAsync(Uri sink, CancellationToken cancellationToken)
    {
        await api.CreateCanvasAsync(Canvas, cancellationToken);
        await api.DeployAsync(Canvas, Noop, "return null;", options.Prefetch, cancellationToken);
        await api.DeployAsync(
            Canvas,
            Timed,
            QueueWaitHandlers.Batched(sink.ToString()),
            options.Prefetch,
            cancellationToken);
        await WaitConsumingAsync(cancellationToken);
    }

    /// <summary>
    /// Waits until the worker service (after a start or a restart) consumes both of the bench canvas's queues.
    /// </summary>
    public Task WaitConsumingAsync(CancellationToken cancellationToken)
        => WaitConsumingAsync(cluster, Queues, cancellationToken);

    /// <summary>
    /// Scenario 3: batches over HTTP, several at once; from the first emit until the worker's processed counter has
    /// them all. <paramref name="inBatches"/> (3b): each request creates a batch of its events (API.md "Batches"),
    /// closed, so every event is a batch's member and every end is counted in its batch before its ack.
    /// </summary>
    public async Task<BatchResult> BatchAsync(CancellationToken cancellationToken, bool inBatches = false)
    {
        var items = Payloads.Batch(payload, options.BatchSize, [Noop]);
        var body = inBatches ? [.. "{\"events\": "u8, .. items, .. "}"u8] : items;
        var url = inBatches ? api.BatchesUrl(Canvas) : api.BatchUrl(Canvas);
        var batches = Math.Max(1, options.WorkqEvents / options.BatchSize);
        var events = (long)batches * options.BatchSize;
        // Unmeasured: a tenth of the work first, as the baselines do, so the services' JIT tiering is done.
        var warmup = Math.Max(1, batches / 10);
        var before = await api.ProcessedAsync(Canvas, Noop, cancellationToken);
        await EmitBatchesAsync(api, url, body, warmup, options.ParallelBatches, cancellationToken);
        await WaitProcessedAsync(
            () => api.ProcessedAsync(Canvas, Noop, cancellationToken),
            before + (long)warmup * options.BatchSize,
            cancellationToken);
        before = await api.ProcessedAsync(Canvas, Noop, cancellationToken);
        var allocated = new AllocationMeter(cluster, api.Http);
        await allocated.StartAsync(cancellationToken);
        var cpu = new CpuMeter(cluster);
        cpu.Start();
        var clock = Stopwatch.StartNew();
        await EmitBatchesAsync(api, url, body, batches, options.ParallelBatches, cancellationToken);
        var emitted = clock.Elapsed;
        await WaitProcessedAsync(
            () => api.ProcessedAsync(Canvas, Noop, cancellationToken),
            before + events,
            cancellationToken);
        var run = new Throughput(events, clock.Elapsed.TotalSeconds, emitted.TotalSeconds);
        var cpuShares = cpu.PerEvent(events);
        return new BatchResult(
            run,
            Math.Round(events / emitted.TotalSeconds, 1),
            cpuShares,
            await allocated.PerEventAsync(events, cancellationToken));
    }

    /// <summary>
    /// Scenario 8 (issue 14): scenario 3 with <paramref name="instances"/> worker instances, the missing ones started
    /// first. Measured once every instance consumes both queues: a new one loads the canvas's handlers and subscribes
    /// before it takes a share.
    /// </summary>
    public async Task<InstancesPass> InstancesAsync(int instances, CancellationToken cancellationToken)
    {
        await cluster.StartWorkersAsync(instances, api.Http, cancellationToken);
        await WaitConsumingAsync(cluster, Queues, instances, cancellationToken);
        return InstancesPass.Of(instances, await BatchAsync(cancellationToken));
    }

    /// <summary>Scenario 4: single emits from many clients at once, each waiting for its 202 before the next.</summary>
    public async Task<SingleResult> SingleAsync(CancellationToken cancellationToken)
    {
        var before = await api.ProcessedAsync(Canvas, Noop, cancellationToken);
        var url = api.SingleUrl(Canvas, Noop);
        var accepted = 0L;
        var errors = 0;
        async Task<List<double>> ClientAsync(TimeSpan duration)
        {
            var latencies = new List<double>();
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await api.EmitAsync(url, payload, cancellationToken);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Increment(ref accepted);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
            return latencies;
        }

        await Task.WhenAll(Enumerable.Range(0, options.SingleClients).Select(_ => ClientAsync(Warmup)));
        errors = 0;
        var cpu = new CpuMeter(cluster);
        cpu.Start();
        var measured = Stopwatch.StartNew();
        var perClient = await Task.WhenAll(Enumerable.Range(0, options.SingleClients)
            .Select(_ => ClientAsync(TimeSpan.FromSeconds(options.SingleSeconds))));
        var seconds = measured.Elapsed.TotalSeconds;
        var requests = perClient.Sum(l => l.Count);
        var cpuShares = cpu.PerEvent(Math.Max(1, requests));
        // Let the worker drain, so the next scenario starts on an empty queue.
        await WaitProcessedAsync(
            () => api.ProcessedAsync(Canvas, Noop, cancellationToken),
            before + Interlocked.Read(ref accepted),
            cancellationToken);
        var all = perClient.SelectMany(l => l).ToList();
        return new SingleResult(all.Count, seconds, errors, Latencies.Of(all), cpuShares);
    }

    /// <summary>
    /// Scenario 5: events emitted at a steady <paramref name="rate"/> (small batches every 5 ms), each handler
    /// reporting its queue wait to the sink; the runner's own queueWaitMs is sampled from the traces alongside. The
    /// services are warmed first at the same rate for <see cref="WaitWarmup"/>: a service's first seconds under a new
    /// load are the JIT's (BENCHMARKS.md, "The half-load tail"). <paramref name="external"/>: the events come from a
    /// second process (<see cref="Pacer.Mode"/>), whose CPU is not counted, so the figure does not depend on the
    /// bench's own load.
    /// </summary>
    public async Task<WaitResult> QueueWaitAsync(
        double rate,
        WaitSink sink,
        CancellationToken cancellationToken,
        bool external = false)
    {
        var url = api.BatchUrl(Canvas);
        var pacer = new Pacer(api, url, payload, Timed, rate);
        await PaceAsync(WaitWarmup);
        await SendHeldAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        sink.Drain();
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var traced = SampleTracesAsync(sampling.Token);
        var cpu = new CpuMeter(cluster);
        cpu.Start();
        var clock = Stopwatch.StartNew();
        var sent = await PaceAsync(TimeSpan.FromSeconds(options.WaitSeconds));
        var achieved = sent / clock.Elapsed.TotalSeconds;
        var cpuShares = cpu.PerEvent(sent);
        var busy = cpuShares.Sum(c => c.MicrosPerEvent) * achieved / 1e6 / Environment.ProcessorCount;
        await SendHeldAsync();
        var deadline = Stopwatch.StartNew();
        while (sink.Count < sent && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(
            50,
            cancellationToken);
        await Task.Delay(TimeSpan.FromMilliseconds(600), cancellationToken);
        await sampling.CancelAsync();
        var traces = await traced;
        var reported = sink.Drain();
        var timeline = WaitTimeline.Of(
            reported,
            SlowWaitMs,
            Path.Combine(options.Results, $"queue-wait-{rate:F0}{(external ? "-external" : "")}.tsv"));
        Console.Error.WriteLine(
            $"[bench] queue wait at {rate:F0}/s: {timeline.SlowEvents} events past {SlowWaitMs} ms, in " +
            $"{timeline.SlowSteps} of {timeline.Steps} 100 ms steps; slowest steps {timeline.Worst}");
        return new WaitResult(
            Math.Round(rate, 1),
            Math.Round(achieved, 1),
            Latencies.Of(reported.Select(w => w.Milliseconds)),
            Latencies.Of(traces.Values),
            Math.Round(busy, 2),
            cpuShares,
            Timeline: timeline);

        // One more event, later than the handler's batching interval, makes it send what it still holds.
        async Task SendHeldAsync()
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            await pacer.EmitOneAsync(cancellationToken);
        }

        Task<long> PaceAsync(TimeSpan duration) => external
            ? PaceOutsideAsync(url, rate, duration, cancellationToken)
            : pacer.PaceAsync(duration, cancellationToken);
    }

    /// <summary>Paces from a second process: this program in <see cref="Pacer.Mode"/> mode.</summary>
    private async Task<long> PaceOutsideAsync(
        Uri url,
        double rate,
        TimeSpan duration,
        CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            Environment = { [Pacer.TokenVariable] = cluster.AdminToken },
        };
        foreach (var arg in new[]
        {
            typeof(Pacer).Assembly.Location,
            Pacer.Mode,
            url.ToString(),
            Timed,
            rate.ToString(CultureInfo.InvariantCulture),
            duration.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            options.EventBytes.ToString(CultureInfo.InvariantCulture),
        }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode == 0 && long.TryParse(output.Trim(), CultureInfo.InvariantCulture, out var sent)
            ? sent
            : throw new InvalidOperationException($"The pacing process exited with {process.ExitCode}: {output}");
    }

    /// <summary>The traces keep the last ten runs; read them often and keep every distinct one seen.</summary>
    private async Task<Dictionary<string, double>> SampleTracesAsync(CancellationToken cancellationToken)
    {
        var seen = new Dictionary<string, double>();
        var url = new Uri(api.ListUrl(Canvas) + $"/{Timed}/traces");
        try
        {
            while (true)
            {
                using (var traces = await api.GetJsonAsync(url, cancellationToken))
                    foreach (var trace in traces.RootElement.EnumerateArray())
                        seen.TryAdd(
                            trace.GetProperty("eventId").GetString()!,
                            trace.GetProperty("queueWaitMs").GetDouble());
                await Task.Delay(100, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return seen;
        }
    }

    public static async Task EmitBatchesAsync(
        WorkqApi api,
        Uri url,
        byte[] body,
        int batches,
        int parallel,
        CancellationToken cancellationToken)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < batches) await api.EmitAsync(url, body, cancellationToken);
        }));
    }

    /// <summary>
    /// Polls a processed counter until it reaches <paramref name="target"/>; the counters are written every 250 ms, so
    /// this errs late by at most that.
    /// </summary>
    public static async Task WaitProcessedAsync(
        Func<Task<long>> observe,
        long target,
        CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        long last;
        while ((last = await observe()) < target)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(5))
                throw new TimeoutException($"Only {last} of {target} events were processed after 5 minutes.");
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>
    /// Waits until every named queue has a consumer: the worker instance has compiled the code and subscribed.
    /// </summary>
    public static Task WaitConsumingAsync(
        BenchCluster cluster,
        IReadOnlyCollection<string> queues,
        CancellationToken cancellationToken) =>
        WaitConsumingAsync(cluster, queues, 1, cancellationToken);

    /// <summary>
    /// Waits until every named queue has <paramref name="consumers"/> consumers: that many worker instances have
    /// compiled the code and subscribed.
    /// </summary>
    public static async Task WaitConsumingAsync(
        BenchCluster cluster,
        IReadOnlyCollection<string> queues,
        int consumers,
        CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var counts = await cluster.QueueConsumersAsync(cancellationToken);
            var missing = queues.Count(q => counts.GetValueOrDefault(q) < consumers);
            if (missing == 0) return;
            if (deadline.Elapsed > TimeSpan.FromMinutes(10))
                throw new TimeoutException(
                    $"{missing} of {queues.Count} queues still have fewer than {consumers} consumers after 10 " +
                        $"minutes.");
            await Task.Delay(250, cancellationToken);
        }
    }
}
