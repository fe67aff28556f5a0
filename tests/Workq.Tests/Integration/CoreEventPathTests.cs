using Workq.Client;
using Trace = Workq.Client.Trace;

namespace Workq.Tests.Integration;

/// <summary>Emit over HTTP -> RabbitMQ -> the worker runs the canvas's code -> traces, on the real services.</summary>
[Collection(ClusterCollection.Name)]
public sealed class CoreEventPathTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private const string CountCode = """
        var n = Event!["n"]!.GetValue<int>();
        if (n < 3) await Emit("count", new { n = n + 1 });
        Log($"saw {n}");
        return n * 2;
        """;

    [Fact]
    public async Task Deployed_code_runs_for_an_emitted_event_and_is_traced_with_result_logs_timings_and_children()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var worker = (await cluster.DeployAsync(canvas, "count", CountCode, token: token)).As<Worker>();
        Assert.Equal(1, worker.Version);
        Assert.Equal("running", worker.State);

        var id = await cluster.EmitAsync(canvas, "count", """{"n":1}""", token);

        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "count"),
            t => t.Count == 3,
            Patience,
            "three runs of the count chain");
        var first = traces.Single(t => t.EventId == id);
        Assert.Equal("completed", first.Status);
        Assert.Equal(2, first.Result!.GetValue<int>());
        Assert.Equal(1, first.Event!["n"]!.GetValue<int>());
        Assert.Equal(["saw 1"], first.Logs);
        Assert.Equal(1, first.Attempt);
        Assert.Null(first.Error);
        Assert.True(first.QueueWaitMs >= 0);
        Assert.True(first.DurationMs >= 0);
        Assert.Matches("^[0-9a-f]{32}$", first.TraceId);
        var child = Assert.Single(first.Emitted);
        Assert.Equal("count", child.Worker);

        // The whole chain shares the emit's trace id, and each child is one level deeper.
        Assert.Single(traces.Select(t => t.TraceId).Distinct());
        Assert.Equal([0, 1, 2], traces.Select(t => t.Depth).Order());
        Assert.Equal([2, 4, 6], traces.Select(t => t.Result!.GetValue<int>()).Order());
        var second = traces.Single(t => t.EventId == child.Id);
        Assert.Equal(2, second.Event!["n"]!.GetValue<int>());

        var stats = await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "count"),
            w => w.Stats.Processed == 3,
            Patience,
            "processed = 3");
        Assert.Equal(0, stats.Stats.Failed);
    }

    [Fact]
    public async Task A_thousand_batch_emitted_events_are_each_processed_exactly_once()
    {
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "record", $$"""
            using (var response = await Http.PostAsync(
                "{{sink.Url}}", new StringContent(Meta.Id.ToString()), CancellationToken)) { }
            return null;
            """, concurrency: 20, token: token);

        var ids = new List<Guid>();
        for (var batch = 0; batch < 2; batch++)
            ids.AddRange(await cluster.EmitBatchAsync(
                canvas,
                Enumerable.Range(0, 500).Select(i => ("record", $$"""{"i":{{batch * 500 + i}}}""")),
                token));
        Assert.Equal(1000, ids.Distinct().Count());

        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Count),
            c => c >= 1000,
            TimeSpan.FromSeconds(90),
            "1000 handler runs");
        var worker = await cluster.EventuallyAsync(() => cluster.GetWorkerAsync(canvas, "record"),
            w => w.Stats is { Processed: >= 1000, Queued: 0, InFlight: 0 },
            Patience,
            "the queue drained and all counted");

        var seen = sink.Calls.Select(Guid.Parse).ToList();
        Assert.Equal(1000, seen.Count);
        Assert.Equal(ids.Order(), seen.Order());
        Assert.Equal(1000, worker.Stats.Processed);
        Assert.Equal(0, worker.Stats.Failed);
    }

    [Fact]
    public async Task Many_full_batches_at_once_are_all_accepted_and_run()
    {
        // 16 x 1,000 events in flight at once: more unconfirmed publishes than the emitter keeps open per
        // channel, so some publishes must wait for room rather than fail.
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "bulk", "return null;", concurrency: 100, token: token);
        var batches = await Task.WhenAll(Enumerable.Range(0, 16).Select(b =>
            cluster.EmitBatchAsync(
                canvas,
                Enumerable.Range(0, 1_000).Select(i => ("bulk", $$"""{"b":{{b}},"i":{{i}}}""")),
                token)));
        Assert.Equal(16_000, batches.SelectMany(ids => ids).Distinct().Count());
        await cluster.EventuallyAsync(() => cluster.GetWorkerAsync(canvas, "bulk"), w => w.Stats.Processed == 16_000,
            TimeSpan.FromSeconds(90), "all 16,000 run");
    }

    [Fact]
    public async Task A_handler_that_throws_is_traced_failed_and_not_run_again()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "boom", """
            Log("about to fail");
            throw new InvalidOperationException("kaboom " + Event!["x"]);
            """, token: token);
        var id = await cluster.EmitAsync(canvas, "boom", """{"x":7}""", token);

        var worker = await cluster.EventuallyAsync(() => cluster.GetWorkerAsync(canvas, "boom"),
            w => w.Stats is { Failed: 1, Queued: 0, InFlight: 0 },
            Patience,
            "one failure counted and nothing left in the queue");
        Assert.Equal(1, worker.Stats.Processed);

        var trace = Assert.Single(await cluster.GetTracesAsync(canvas, "boom"));
        Assert.Equal(id, trace.EventId);
        Assert.Equal("failed", trace.Status);
        Assert.Equal("InvalidOperationException", trace.Error!.Type);
        Assert.Equal("kaboom 7", trace.Error.Message);
        Assert.Equal(["about to fail"], trace.Logs);
        Assert.Equal(1, trace.Attempt);
    }

    [Fact]
    public async Task A_handler_fans_out_to_itself_and_to_another_worker()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "sink", "return Event![\"from\"]!.GetValue<int>();", token: token);
        await cluster.DeployAsync(canvas, "fan", """
            var n = Event!["n"]!.GetValue<int>();
            await Task.WhenAll(
                n < 2 ? Emit("fan", new { n = n + 1 }) : Task.FromResult(Guid.Empty),
                Emit("sink", new { from = n }));
            return n;
            """, token: token);
        await cluster.EmitAsync(canvas, "fan", """{"n":0}""", token);

        var sinkTraces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "sink"),
            t => t.Count == 3,
            Patience,
            "three events at sink");
        Assert.Equal([0, 1, 2], sinkTraces.Select(t => t.Result!.GetValue<int>()).Order());
        // The fan's last run is traced as it ends, after its emit: it may land in a later flush than the sink's trace.
        var fanTraces = await cluster.EventuallyAsync(() => cluster.GetTracesAsync(canvas, "fan"), t => t.Count == 3,
            Patience, "three runs of the fan");
        Assert.Equal(5, fanTraces.Sum(t => t.Emitted.Count));
    }

    [Fact]
    public async Task An_idempotency_key_enqueues_once_and_returns_the_first_id()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "once", "return 1;", token: token);
        var url = cluster.EmitUrl($"/v1/canvases/{canvas}/workers/once/events");

        async Task<EmitAccepted> EmitWithKey(string key)
        {
            using var response = await cluster.SendAsync(HttpMethod.Post, url, token, """{"a":1}""", key);
            Assert.Equal(202, (int)response.StatusCode);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync()).As<EmitAccepted>();
        }
        var first = await EmitWithKey("order-42");
        var again = await EmitWithKey("order-42");
        Assert.Equal(first.Id, again.Id);
        Assert.Equal(first.EnqueuedAt, again.EnqueuedAt);

        // In a batch: a known key returns its id; a key repeated within the batch is one event.
        var batch = await cluster.JsonAsync(HttpMethod.Post, cluster.EmitUrl(
            $"/v1/canvases/{canvas}/events"), token, """
            [{"worker":"once","event":1,"idempotencyKey":"order-42"},
             {"worker":"once","event":2,"idempotencyKey":"order-43"},
             {"worker":"once","event":3,"idempotencyKey":"order-43"}]
            """, expect: 202);
        var ids = batch.As<AcceptedIds>().Ids;
        Assert.Equal(first.Id, ids[0]);
        Assert.Equal(ids[1], ids[2]);
        Assert.NotEqual(ids[0], ids[1]);

        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "once"),
            w => w.Stats is { Processed: 2, Queued: 0 },
            Patience,
            "two distinct events processed");
        // Settled: the duplicates never ran.
        var traces = await cluster.TracesAsync(canvas, "once");
        Assert.Equal(2, traces.Count);
    }

    [Fact]
    public async Task A_handler_past_its_time_out_is_cancelled_and_traced_timed_out()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "slow", """
            await Task.Delay(TimeSpan.FromMinutes(5), CancellationToken);
            return "never";
            """, token: token);
        await cluster.DeployAsync(canvas, "deaf", """
            await Task.Delay(TimeSpan.FromSeconds(30));
            return "ignored the token";
            """, token: token);
        await cluster.EmitAsync(canvas, "slow", "null", token);
        await cluster.EmitAsync(canvas, "deaf", "null", token);

        foreach (var worker in new[] { "slow", "deaf" })
        {
            var trace = (await cluster.EventuallyAsync(
                () => cluster.GetTracesAsync(canvas, worker),
                t => t.Count == 1,
                Patience,
                $"{worker} traced"))[0];
            Assert.Equal("timedOut", trace.Status);
            Assert.Contains("WORKQ_HANDLER_TIMEOUT", trace.Error!.Message);
            Assert.InRange(
                trace.DurationMs,
                WorkqCluster.HandlerTimeout.TotalMilliseconds * 0.9,
                WorkqCluster.HandlerTimeout.TotalMilliseconds + 5_000);
        }
    }

    [Fact]
    public async Task Meta_carries_the_event_identity()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "meta", """
            return new
            {
                id = Meta.Id, canvas = Meta.Canvas, worker = Meta.Worker, attempt = Meta.Attempt, depth = Meta.Depth,
                enqueuedAt = Meta.EnqueuedAt, isNull = Event is null,
            };
            """, token: token);
        var id = await cluster.EmitAsync(canvas, "meta", "null", token);
        var trace = (await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "meta"),
            t => t.Count == 1,
            Patience,
            "meta traced"))[0];
        var result = trace.Result.As<MetaSeen>();
        Assert.Equal(id, result.Id);
        Assert.Equal(canvas, result.Canvas);
        Assert.Equal("meta", result.Worker);
        Assert.Equal(1, result.Attempt);
        Assert.Equal(0, result.Depth);
        Assert.True(result.IsNull);
        Assert.Equal(trace.EnqueuedAt, result.EnqueuedAt);
    }

    [Fact]
    public async Task Redeploying_swaps_the_code_on_the_running_worker_without_a_restart()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "v", "return 1;", token: token);
        await cluster.EmitAsync(canvas, "v", "null", token);
        await cluster.EventuallyAsync(() => cluster.TracesAsync(canvas, "v"), t => t.Count == 1, Patience, "v1 ran");

        var updated = (await cluster.DeployAsync(canvas, "v", "return 2;", token: token, expect: 200)).As<Worker>();
        Assert.Equal(2, updated.Version);

        // The PUT answers once every worker instance has the new version: the very next event runs it.
        async Task<int> RunOnceAsync()
        {
            var id = await cluster.EmitAsync(canvas, "v", "null", token);
            var traces = await cluster.EventuallyAsync(
                () => cluster.GetTracesAsync(canvas, "v"),
                t => t.Any(x => x.EventId == id),
                Patience,
                $"event {id} traced");
            return traces.Single(x => x.EventId == id).Result!.GetValue<int>();
        }
        for (var i = 0; i < 3; i++) Assert.Equal(2, await RunOnceAsync());
    }

    /// <summary>What the meta handler returns: its own event identity as Meta gave it.</summary>
    private sealed record MetaSeen(
        Guid Id, string Canvas, string Worker, int Attempt, int Depth, DateTimeOffset EnqueuedAt, bool IsNull);
}
