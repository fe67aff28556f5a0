using Workq.Client;
using Workq.Shared.Messaging;

namespace Workq.Tests.Quotas;

/// <summary>
/// The quotas of the security issue "one event emitted 50,000 events": emits per event, queue length per worker,
/// emit rate per canvas; each refused loudly (a failed run, a 429), none dropping an accepted event.
/// </summary>
public sealed class QuotaTests(QuotaCluster fixture) : IClassFixture<QuotaCluster>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly WorkqCluster cluster = fixture.Cluster;

    [Fact]
    public async Task The_emit_past_the_per_event_limit_throws_in_the_handler_fails_the_run_and_earlier_emits_stand()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("q");
        await cluster.DeployAsync(canvas, "child", "return null;", token: token);
        await cluster.DeployAsync(canvas, "spray", """
            for (var i = 0; i < 1001; i++) await Emit("child", new { i });
            return "all sent";
            """, token: token);
        // Hostile code swallowing the refusal still fails. (80 refusals, not 981: each is a round trip to the worker
        // service, and the cluster's 3 s handler time-out must not be what ends the run on a busy machine.)
        await cluster.DeployAsync(canvas, "sneaky", """
            for (var i = 0; i < 100; i++)
            {
                try { await Emit("child", new { i }); } catch (InvalidOperationException) { }
            }
            return "got away with it";
            """, token: token);

        await cluster.EmitAsync(canvas, "spray", "{}", token);
        await cluster.EmitAsync(canvas, "sneaky", "{}", token);

        foreach (var worker in new[] { "spray", "sneaky" })
        {
            var trace = (await cluster.EventuallyAsync(
                () => cluster.GetTracesAsync(canvas, worker),
                t => t.Count == 1,
                Patience,
                $"{worker} traced"))[0];
            Assert.True(trace.Status == "failed", $"{worker}'s run: {trace}");
            var message = trace.Error!.Message;
            Assert.Contains("WORKQ_MAX_EMITS_PER_EVENT", message);
            Assert.Contains($"{QuotaCluster.MaxEmitsPerEvent}", message);
            Assert.Null(trace.Result);
            Assert.Equal(QuotaCluster.MaxEmitsPerEvent, trace.Emitted.Count);
        }
        // The allowed emits were enqueued and ran; nothing more.
        var child = await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "child"),
            w => w.Stats.Processed >= 2 * QuotaCluster.MaxEmitsPerEvent,
            Patience,
            "the children processed");
        Assert.Equal(2 * QuotaCluster.MaxEmitsPerEvent, child.Stats.Processed);
        Assert.Equal(0, child.Stats.Queued);
    }

    [Fact]
    public async Task A_full_queue_refuses_emits_with_429_queue_full_until_it_drains_and_every_accepted_event_runs()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("q");
        await cluster.DeployAsync(canvas, "sink", "return null;", token: token);
        await cluster.DeployAsync(canvas, "relay", """
            await Emit("sink", new { from = "relay" });
            return "relayed";
            """, token: token);
        await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/sink/pause"),
            token);

        // Filled one emit at a time, each confirmed before the next: the one past the limit is refused.
        var accepted = 0;
        HttpResponseMessage full;
        while (true)
        {
            full = await cluster.SendAsync(
                HttpMethod.Post,
                cluster.EmitUrl($"/v1/canvases/{canvas}/workers/sink/events"),
                token,
                $$"""{"n":{{accepted}}}""");
            if (full.StatusCode != HttpStatusCode.Accepted || accepted > QuotaCluster.MaxQueued + 5) break;
            full.Dispose();
            accepted++;
        }
        using (full) await AssertQueueFullAsync(full, canvas);
        // A quorum queue checks x-max-length after an enqueue, so it takes the one that reaches past the limit, then
        // refuses.
        Assert.InRange(accepted, QuotaCluster.MaxQueued, QuotaCluster.MaxQueued + 1);
        using (var batch = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
            token,
            """[{"worker":"sink","event":1},{"worker":"sink","event":2}]"""))
            await AssertQueueFullAsync(batch, canvas);

        // A handler's emit into the full queue throws, and its run fails with the message.
        await cluster.EmitAsync(canvas, "relay", "{}", token);
        var relayed = (await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "relay"),
            t => t.Count == 1,
            Patience,
            "relay traced"))[0];
        Assert.Equal("failed", relayed.Status);
        Assert.Equal("QueueFullException", relayed.Error!.Type);
        Assert.Contains($"{canvas}/sink", relayed.Error.Message);
        Assert.Empty(relayed.Emitted);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "sink"),
            w => w.Stats.Queued == accepted,
            Patience,
            "the queue holding what was accepted");

        await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/sink/resume"),
            token);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "sink"),
            w => w.Stats.Processed == accepted && w.Stats.Queued == 0,
            Patience,
            "the queue drained");

        await cluster.EmitAsync(canvas, "sink", """{"n":"after the drain"}""", token);
        await cluster.EmitBatchAsync(canvas, [("sink", "1"), ("sink", "2")], token);
        accepted += 3;
        var sink = await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "sink"),
            w => w.Stats.Processed >= accepted,
            Patience,
            "every accepted event processed");
        Assert.Equal(accepted, sink.Stats.Processed);
    }

    [Fact]
    public async Task A_canvas_over_its_emit_rate_gets_429_with_retry_after_while_another_canvas_is_unaffected()
    {
        var (busy, busyToken) = await cluster.CreateCanvasAsync("q");
        var (calm, calmToken) = await cluster.CreateCanvasAsync("q");
        // To a worker that does not exist: the events are parked, so the small queue cap of this cluster plays no part.

        // The calm canvas emits its whole burst at the same time as the busy one goes past it.
        var calmEmits = Enumerable.Range(0, 5).Select(b => cluster.EmitBatchAsync(
            calm,
            Enumerable.Range(0, QuotaCluster.Burst / 5).Select(i => ("nobody", $"{b * 100 + i}")),
            calmToken)).ToList();
        var busyBurst = await cluster.EmitBatchAsync(
            busy,
            Enumerable.Range(0, QuotaCluster.Burst).Select(i => ("nobody", $"{i}")),
            busyToken);
        Assert.Equal(QuotaCluster.Burst, busyBurst.Count);

        // One event a second refills the bucket: a few emits right after the burst cannot all pass.
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 5 && refused is null; i++)
        {
            var response = await cluster.SendAsync(
                HttpMethod.Post,
                cluster.EmitUrl($"/v1/canvases/{busy}/workers/nobody/events"),
                busyToken,
                "{}");
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
            else
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                response.Dispose();
            }
        }
        Assert.NotNull(refused);
        using (refused)
        {
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var retryAfter = refused.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
            var problem = (await refused.Content.ReadAsStringAsync()).As<Problem>();
            Assert.Equal(429, problem.Status);
            Assert.Contains("WORKQ_CANVAS_EMIT_RATE", problem.Detail);
            Assert.Contains(busy, problem.Detail);
        }

        // A batch larger than the burst could never pass: 400, not a 429 to retry forever.
        using (var tooBig = await cluster.SendAsync(HttpMethod.Post, cluster.EmitUrl(
            $"/v1/canvases/{calm}/events"), calmToken,
                   "[" + string.Join(
                       ",",
                       Enumerable.Range(0, QuotaCluster.Burst + 1)
                           .Select(i => """{"worker":"nobody","event":1}""")) + "]"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooBig.StatusCode);
            Assert.Contains("burst", await tooBig.Content.ReadAsStringAsync());
        }

        var calmIds = (await Task.WhenAll(calmEmits)).SelectMany(ids => ids).ToList();
        Assert.Equal(QuotaCluster.Burst, calmIds.Distinct().Count());
    }

    [Fact]
    public async Task A_queue_declared_before_the_limit_is_kept_with_a_warning_and_its_worker_deploys_and_runs()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("q");
        var queue = $"workq.worker.{canvas}.legacy";
        // As the previous release declared it: no x-max-length.
        await cluster.Rabbit.DeclareQueueAsync(cluster.VirtualHost, queue, new Dictionary<string, object>
        {
            ["x-queue-type"] = "quorum",
            ["x-delivery-limit"] = 5,
            ["x-dead-letter-exchange"] = "workq.dead-letters",
            ["x-dead-letter-strategy"] = "at-least-once",
            ["x-overflow"] = "reject-publish",
        });

        await cluster.DeployAsync(canvas, "legacy", "return Event;", token: token);
        await cluster.EmitAsync(canvas, "legacy", """{"still":"served"}""", token);
        var trace = (await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "legacy"),
            t => t.Count == 1,
            Patience,
            "legacy traced"))[0];
        Assert.Equal("completed", trace.Status);
        Assert.Equal("served", trace.Result!["still"]!.GetValue<string>());
        Assert.False(
            (await cluster.Rabbit.QueueArgumentsAsync(cluster.VirtualHost, queue)).ContainsKey("x-max-length"));
        Assert.Contains(
            File.ReadLines(cluster.Control.LogPath),
            line => line.Contains($"{canvas}/legacy exists with other arguments"));
    }

    [Fact]
    public async Task The_worker_object_shows_its_limits()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("q");
        var deployed = await cluster.DeployAsync(canvas, "w", "return null;", token: token);
        var listed = await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers"),
            token);
        foreach (var worker in new[]
                 {
                     deployed.As<WorkerDetail>(), await cluster.GetWorkerDetailAsync(canvas, "w"),
                     listed.As<List<WorkerDetail>>()[0],
                 })
        {
            Assert.Equal(QuotaCluster.MaxQueued, worker.Limits.MaxQueued);
            Assert.Equal(QuotaCluster.MaxEmitsPerEvent, worker.Limits.MaxEmitsPerEvent);
            Assert.Equal(QuotaCluster.EmitRate, worker.Limits.CanvasEmitRate);
        }
    }

    private static async Task AssertQueueFullAsync(HttpResponseMessage response, string canvas)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(
            response.StatusCode == HttpStatusCode.TooManyRequests,
            $"expected 429, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = body.As<Problem>();
        Assert.Equal("Queue full", problem.Title);
        var detail = problem.Detail;
        Assert.Contains($"{canvas}/sink", detail);
        Assert.Contains($"{QuotaCluster.MaxQueued}", detail);
        Assert.Contains("WORKQ_MAX_QUEUED_PER_WORKER", detail);
    }
}
