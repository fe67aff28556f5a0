using System.Diagnostics;
using Workq.Client;
using Trace = Workq.Client.Trace;

namespace Workq.Tests.Integration;

/// <summary>
/// Delayed emits (delaySeconds, runAt) end to end: the scheduled table, the dispatcher's pump, un-enqueue, pause,
/// handlers, the cap.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DelayedEmitTests(WorkqCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Posts the event's id to the sink when it runs.</summary>
    public const string RecordCode = """
        using (var r = await Http.PostAsync("{0}", new StringContent(Meta.Id.ToString()), CancellationToken)) {{ }}
        return Event;
        """;

    private async Task<Guid> EmitAtAsync(string canvas, string worker, string query, string token, string body = "1")
    {
        using var response = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/{worker}/events?{query}"),
            token,
            body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 202, $"emit ?{query} answered {(int)response.StatusCode}: {text}");
        return text.As<EmitAccepted>().Id;
    }

    private async Task<string> EmitRefusedAsync(
        string canvas,
        string worker,
        string query,
        string token,
        int status = 400)
    {
        using var response = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/{worker}/events?{query}"),
            token,
            "1");
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    private static string At(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O"));

    private static DateTimeOffset StartedAt(IReadOnlyList<Trace> traces, Guid id) =>
        traces.Single(t => t.EventId == id).StartedAt;

    [Fact]
    public async Task Single_and_batch_delayed_emits_wait_as_scheduled_and_run_no_earlier_than_their_time()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("delay");
        await cluster.DeployAsync(canvas, "d", "return Event;", token: token);
        var before = DateTimeOffset.UtcNow;
        var single = await EmitAtAsync(canvas, "d", "delaySeconds=4", token);
        var runAt = DateTimeOffset.UtcNow.AddSeconds(4);
        var singleAt = await EmitAtAsync(canvas, "d", $"runAt={At(runAt)}", token, "2");
        var batch = (await cluster.JsonAsync(HttpMethod.Post, cluster.EmitUrl(
            $"/v1/canvases/{canvas}/events"), token, $$"""
            [{"worker":"d","event":3,"delaySeconds":4.5},
             {"worker":"d","event":4,"runAt":"{{runAt:O}}"},
             {"worker":"d","event":5}]
            """, expect: 202)).As<AcceptedIds>().Ids;

        // The immediate item runs now; the four others wait in the table, outside the queue.
        var waiting = await cluster.GetWorkerDetailAsync(canvas, "d");
        Assert.Equal(4, waiting.Stats.Scheduled);
        Assert.Equal(100_000, waiting.Limits.MaxScheduled);

        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "d"),
            t => t.Count == 5,
            Patience,
            "all five ran");
        Assert.True(StartedAt(traces, single) >= before.AddSeconds(4), "delaySeconds=4 ran early");
        Assert.True(StartedAt(traces, singleAt) >= runAt, "runAt ran early");
        Assert.True(StartedAt(traces, batch[0]) >= before.AddSeconds(4.5), "the batch's delaySeconds ran early");
        Assert.True(StartedAt(traces, batch[1]) >= runAt, "the batch's runAt ran early");
        Assert.True(StartedAt(traces, batch[2]) < runAt, "the batch's immediate item waited");
        // The dispatcher deletes a row once its publish is confirmed, which may be after the event has run.
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerDetailAsync(canvas, "d"),
            w => w.Stats.Scheduled == 0,
            Patience,
            "no scheduled row left");
    }

    [Fact]
    public async Task Bad_delays_and_times_are_refused_with_a_problem_naming_the_field()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("delay");
        Assert.Contains("not both", await EmitRefusedAsync(
            canvas,
            "d",
            $"delaySeconds=1&runAt={At(DateTimeOffset.UtcNow.AddSeconds(5))}",
            token));
        Assert.Contains("delaySeconds", await EmitRefusedAsync(canvas, "d", "delaySeconds=-1", token));
        Assert.Contains("delaySeconds", await EmitRefusedAsync(canvas, "d", "delaySeconds=2592001", token));
        Assert.Contains("delaySeconds", await EmitRefusedAsync(canvas, "d", "delaySeconds=soon", token));
        Assert.Contains("runAt", await EmitRefusedAsync(canvas, "d", "runAt=2026-12-01T12:00:00", token));
        Assert.Contains(
            "30 days",
            await EmitRefusedAsync(canvas, "d", $"runAt={At(DateTimeOffset.UtcNow.AddDays(31))}", token));
        using var batch = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
            token,
            """[{"worker":"d","event":1},{"worker":"d","event":2,"delaySeconds":"5"}]""");
        Assert.Equal(400, (int)batch.StatusCode);
        Assert.Contains("Item 1", await batch.Content.ReadAsStringAsync());
        // A past runAt runs now.
        await cluster.DeployAsync(canvas, "d", "return Event;", token: token);
        var past = await EmitAtAsync(canvas, "d", $"runAt={At(DateTimeOffset.UtcNow.AddHours(-1))}", token);
        await cluster.TraceOfAsync(canvas, "d", past, Patience);
    }

    [Fact]
    public async Task An_un_enqueued_scheduled_event_never_runs_and_another_canvas_cannot_cancel_one()
    {
        var (victim, victimToken) = await cluster.CreateCanvasAsync("victim");
        var (attacker, attackerToken) = await cluster.CreateCanvasAsync("attacker");
        await cluster.DeployAsync(victim, "w", "return Event;", token: victimToken);
        await cluster.DeployAsync(attacker, "w", "return Event;", token: attackerToken);
        var kept = await EmitAtAsync(victim, "w", "delaySeconds=3", victimToken, "\"kept\"");
        var cancelled = await EmitAtAsync(victim, "w", "delaySeconds=3", victimToken, "\"cancelled\"");

        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{victim}/workers/w/events/{cancelled}"),
            victimToken,
            expect: 202);
        Assert.Equal(1, (await cluster.GetWorkerDetailAsync(victim, "w")).Stats.Scheduled);
        // The attacker's own route reaches only its own worker's events; the victim's route refuses its token.
        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{attacker}/workers/w/events/{kept}"),
            attackerToken,
            expect: 202);
        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{victim}/workers/w/events/{kept}"),
            attackerToken,
            expect: 403);
        Assert.Equal(1, (await cluster.GetWorkerDetailAsync(victim, "w")).Stats.Scheduled);

        await cluster.TraceOfAsync(victim, "w", kept, Patience);
        // Published together: once the kept one ran, the cancelled one would have been in the queue before it.
        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(victim, "w"),
            t => t.Count >= 1,
            Patience,
            "the victim's traces");
        Assert.DoesNotContain(traces, t => t.EventId == cancelled);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(victim, "w"),
            w => w.Stats.Processed >= 1,
            Patience,
            "the counter caught up");
        Assert.Equal(1, (await cluster.GetWorkerAsync(victim, "w")).Stats.Processed);
        Assert.Empty(await cluster.TracesAsync(attacker, "w"));
    }

    [Fact]
    public async Task A_paused_worker_holds_a_due_event_in_its_queue_and_runs_it_after_resume()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("delay");
        await cluster.DeployAsync(canvas, "p", "return Event;", token: token);
        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/p/pause"), token);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "p"),
            w => w.Stats.Consumers == 0,
            Patience,
            "no consumers while paused");

        var id = await EmitAtAsync(canvas, "p", "delaySeconds=1", token);
        var held = await cluster.EventuallyAsync(
            () => cluster.GetWorkerDetailAsync(canvas, "p"),
            w => w.Stats.Scheduled == 0 && w.Stats.Queued == 1,
            Patience,
            "the due event queued, held by the pause");
        Assert.Equal(0, held.Stats.Processed);

        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/p/resume"), token);
        await cluster.TraceOfAsync(canvas, "p", id, Patience);
    }

    [Fact]
    public async Task Purge_counts_and_removes_scheduled_events_too()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("delay");
        await cluster.DeployAsync(canvas, "w", "return Event;", token: token);
        await cluster.JsonAsync(HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{canvas}/events"), token,
            """
            [{"worker":"w","event":1,"delaySeconds":600},
             {"worker":"w","event":2,"delaySeconds":600},
             {"worker":"other","event":3,"delaySeconds":600}]
            """, expect: 202);
        var purged = await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/events"),
            token);
        Assert.Equal(2, purged.As<PurgeAnswer>().Purged);
        Assert.Equal(0, (await cluster.GetWorkerDetailAsync(canvas, "w")).Stats.Scheduled);
    }

    [Fact]
    public async Task A_handlers_delayed_emit_runs_later_and_only_in_its_own_canvas()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("relay");
        var (other, otherToken) = await cluster.CreateCanvasAsync("other");
        await cluster.DeployAsync(
            canvas,
            "relay",
            """await Emit("sink", Event, delay: TimeSpan.FromSeconds(2)); return null;""",
            token: token);
        await cluster.DeployAsync(
            canvas,
            "far",
            """await Emit("sink", Event, delay: TimeSpan.FromDays(31)); return null;""",
            token: token);
        await cluster.DeployAsync(canvas, "sink", "return Event;", token: token);
        await cluster.DeployAsync(other, "sink", "return Event;", token: otherToken);

        var relayed = await cluster.EmitAsync(canvas, "relay", "7", token);
        var relay = (await cluster.TraceOfAsync(canvas, "relay", relayed, Patience)).As<Trace>();
        var emitted = relay.Emitted.Single().Id;
        var sink = (await cluster.TraceOfAsync(canvas, "sink", emitted, Patience)).As<Trace>();
        Assert.True(sink.StartedAt >= relay.StartedAt.AddSeconds(2), "the handler's delayed emit ran early");
        Assert.Equal(7, sink.Event!.GetValue<int>());
        Assert.Empty(await cluster.TracesAsync(other, "sink"));

        var far = await cluster.TraceOfAsync(
            canvas,
            "far",
            await cluster.EmitAsync(canvas, "far", "1", token),
            Patience);
        Assert.Contains("30 days", far.ToJsonString());
        // The dispatcher deletes a row once its publish is confirmed, which may be after the event has run.
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerDetailAsync(canvas, "sink"),
            w => w.Stats.Scheduled == 0,
            Patience,
            "no scheduled row left");
    }

    [Fact]
    public async Task A_worker_at_its_scheduled_limit_refuses_more_with_429_and_still_takes_immediate_emits()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("cap");
        await cluster.DeployAsync(canvas, "w", "return Event;", token: token);
        // WORKQ_MAX_SCHEDULED_PER_WORKER's default, filled directly: 100,000 emits would take a while.
        await using (var db = Npgsql.NpgsqlDataSource.Create(cluster.ServiceEnvironment["WORKQ_POSTGRES"]))
        await using (var fill = db.CreateCommand("""
            insert into scheduled_events (event_id, canvas, worker, enqueued_at, run_at, depth, body)
            select gen_random_uuid(), $1, 'w', now(), now() + interval '10 days', 0, '1'::bytea
            from generate_series(1, 100000)
            """))
        {
            fill.Parameters.AddWithValue(canvas);
            await fill.ExecuteNonQueryAsync();
        }
        var refused = await EmitRefusedAsync(canvas, "w", "delaySeconds=60", token, status: 429);
        Assert.Contains("WORKQ_MAX_SCHEDULED_PER_WORKER", refused);
        using (var batch = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
            token,
            """[{"worker":"w","event":1},{"worker":"w","event":2,"delaySeconds":60}]"""))
            Assert.Equal(429, (int)batch.StatusCode);
        // The refused batch enqueued nothing, not even its immediate item; a plain emit is still taken.
        var now = await cluster.EmitAsync(canvas, "w", "3", token);
        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "w"),
            t => t.Count >= 1,
            Patience,
            "the immediate emit ran");
        Assert.Equal(now, Assert.Single(traces).EventId);
        var purged = await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/events"),
            token);
        Assert.Equal(100_000, purged.As<PurgeAnswer>().Purged);
    }

    [Fact]
    public async Task Lateness_of_200_delayed_events_is_measured_and_none_runs_early()
    {
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("late");
        await cluster.DeployAsync(canvas, "rec", string.Format(RecordCode, sink.Url), concurrency: 20, token: token);
        // Sink arrivals are stopwatch ticks; one anchor turns them into wall-clock times.
        var anchorWall = DateTimeOffset.UtcNow;
        var anchorTicks = Stopwatch.GetTimestamp();
        var first = DateTimeOffset.UtcNow.AddSeconds(2);
        var runAts = new Dictionary<Guid, DateTimeOffset>();
        for (var batch = 0; batch < 4; batch++)
        {
            var times = Enumerable.Range(0, 50).Select(i => first.AddMilliseconds((batch * 50 + i) * 15)).ToList();
            var body = "[" + string.Join(",", times.Select(t => $$"""{"worker":"rec","event":0,"runAt":"{{t:O}}"}"""))
                + "]";
            var ids = (await cluster.JsonAsync(
                HttpMethod.Post,
                cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
                token,
                body,
                expect: 202)).As<AcceptedIds>().Ids;
            for (var i = 0; i < ids.Count; i++) runAts[ids[i]] = times[i];
        }
        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.FirstSeen.Count),
            n => n >= runAts.Count,
            TimeSpan.FromSeconds(60),
            "all 200 ran");

        var lateness = runAts.Select(e => (anchorWall
            + Stopwatch.GetElapsedTime(anchorTicks, sink.FirstSeen[e.Key.ToString()]) - e.Value).TotalMilliseconds)
            .Order().ToList();
        double Percentile(double p)
            => lateness[Math.Min(lateness.Count - 1, (int)Math.Ceiling(p * lateness.Count) - 1)];
        output.WriteLine(
            $"Delayed-emit lateness (handler's callback - runAt) over {lateness.Count} events scheduled 2-5 s ahead: "
            + $"min {lateness[0]:0} ms, p50 {Percentile(0.50):0} ms, p99 {Percentile(0.99):0} ms, "
            + $"max {lateness[^1]:0} ms; p99 < 1 s: {Percentile(0.99) < 1000}");
        Assert.True(lateness[0] >= 0, $"an event ran {-lateness[0]:0} ms before its runAt");
        Assert.True(lateness[^1] < 10_000, $"an event ran {lateness[^1]:0} ms after its runAt");
    }
}
