using Workq.Client;

namespace Workq.Tests.Integration;

/// <summary>Pause, resume, block, unblock, and the unhandled ("404") list, on the real broker.</summary>
[Collection(ClusterCollection.Name)]
public sealed class QueueControlTests(WorkqCluster cluster, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private Task<JsonNode?> PostAsync(
        string canvas,
        string path,
        string token,
        string? body = null,
        int expect = 200) =>
        cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{path}"),
            token,
            body,
            expect);

    private async Task<IReadOnlyList<Unhandled>> UnhandledAsync(Uri url, string token) =>
        (await cluster.JsonAsync(HttpMethod.Get, url, token)).As<List<Unhandled>>();

    [Fact]
    public async Task A_paused_worker_keeps_its_events_queued_and_resume_drains_them()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "p", "return 1;", token: token);
        var paused = (await PostAsync(canvas, "p/pause", token)).As<Worker>();
        Assert.Equal("paused", paused.State);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "p"),
            w => w.Stats.Consumers == 0,
            Patience,
            "no consumers while paused");

        await cluster.EmitBatchAsync(canvas, Enumerable.Range(0, 20).Select(i => ("p", i.ToString())), token);
        var queued = await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "p"),
            w => w.Stats.Queued == 20,
            Patience,
            "20 queued while paused");
        Assert.Equal(0, queued.Stats.Processed);
        Assert.Empty(await cluster.TracesAsync(canvas, "p"));

        Assert.Equal("running", (await PostAsync(canvas, "p/resume", token)).As<Worker>().State);
        await cluster.EventuallyAsync(() => cluster.GetWorkerAsync(canvas, "p"),
            w => w.Stats.Processed == 20 && w.Stats.Queued == 0, Patience, "drained after resume");
    }

    [Fact]
    public async Task Block_is_the_admins_and_unblock_returns_the_worker_to_the_state_under_the_block()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "b", "return 1;", token: token);
        await PostAsync(canvas, "b/pause", token);

        var blocked = (await PostAsync(canvas, "b/block", cluster.AdminToken, """{"reason":"runaway loop"}"""))
            .As<Worker>();
        Assert.Equal("blocked", blocked.State);
        Assert.Equal("runaway loop", blocked.BlockedReason);

        // The owner cannot resume a blocked worker; emits are still accepted and kept.
        using (var resume = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/b/resume"),
            token))
        {
            Assert.Equal(409, (int)resume.StatusCode);
            Assert.Contains("runaway loop", await resume.Content.ReadAsStringAsync());
        }
        Assert.Equal("blocked", (await cluster.GetWorkerAsync(canvas, "b")).State);
        await cluster.EmitAsync(canvas, "b", "1", token);

        var unblocked = (await PostAsync(canvas, "b/unblock", cluster.AdminToken)).As<Worker>();
        Assert.Equal("paused", unblocked.State);
        Assert.Null(unblocked.BlockedReason);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "b"),
            w => w.Stats.Queued == 1,
            Patience,
            "the event kept");

        await PostAsync(canvas, "b/resume", token);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "b"),
            w => w.Stats.Processed == 1,
            Patience,
            "processed after resume");
    }

    [Fact]
    public async Task Events_for_a_worker_that_does_not_exist_are_parked_and_run_in_order_once_it_is_created()
    {
        // Concurrency is per instance: with two instances consuming, run order would not show queue order.
        await cluster.UseOneWorkerInstanceAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync();
        for (var i = 1; i <= 5; i++) await cluster.EmitAsync(canvas, "later", $$"""{"i":{{i}}}""", token);

        var unhandledUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled");
        var list = await cluster.EventuallyAsync(
            () => UnhandledAsync(unhandledUrl, token),
            l => l.Count == 1 && l[0].Count == 5,
            Patience,
            "five parked events for 'later'");
        var entry = list[0];
        Assert.Equal("later", entry.Worker);
        Assert.True(entry.FirstSeen <= entry.LastSeen);
        Assert.Equal(5, JsonNode.Parse(entry.Sample!.GetValue<string>())!["i"]!.GetValue<int>());

        // Concurrency 1 on the one instance, so the run order shows the queue order.
        await cluster.DeployAsync(
            canvas,
            "later",
            "return Event![\"i\"]!.GetValue<int>();",
            concurrency: 1,
            token: token);
        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "later"),
            t => t.Count == 5,
            Patience,
            "the parked events run");
        var order = traces.OrderBy(t => t.StartedAt).Select(t => t.Result!.GetValue<int>()).ToList();
        Assert.Equal([1, 2, 3, 4, 5], order);
        // The replay removes them from the list once the broker confirmed all of them.
        await cluster.EventuallyAsync(
            async () => (await cluster.JsonAsync(HttpMethod.Get, unhandledUrl, token))!.AsArray(),
            l => l.Count == 0,
            Patience,
            "the list emptied");
    }

    [Fact]
    public async Task Deleting_an_unhandled_entry_drops_its_parked_events()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.EmitAsync(canvas, "ghost", "1", token);
        var unhandledUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled");
        await cluster.EventuallyAsync(
            async () => (await cluster.JsonAsync(HttpMethod.Get, unhandledUrl, token))!.AsArray(),
            l => l.Count == 1,
            Patience,
            "ghost parked");

        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled/ghost"),
            token,
            expect: 204);
        Assert.Empty((await cluster.JsonAsync(HttpMethod.Get, unhandledUrl, token))!.AsArray());

        // Creating the worker now finds nothing to replay.
        await cluster.DeployAsync(canvas, "ghost", "return 1;", token: token);
        await cluster.EmitAsync(canvas, "ghost", "2", token);
        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "ghost"),
            t => t.Count >= 1,
            Patience,
            "the new event ran");
        Assert.Equal(2, Assert.Single(traces).Event!.GetValue<int>());
    }

    [Fact]
    public async Task Past_the_limit_per_name_the_oldest_parked_events_are_dropped_and_counted()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        for (var i = 1; i <= 5; i++) await cluster.EmitAsync(canvas, "crowd", i.ToString(), token);
        var unhandledUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled");
        await cluster.EventuallyAsync(
            () => UnhandledAsync(unhandledUrl, token),
            l => l.Count == 1 && l[0].Count == 5,
            Patience,
            "five parked");

        // What the dispatcher does every few seconds with WORKQ_MAX_UNHANDLED_PER_WORKER, here with a limit of 3.
        await using (var db = Npgsql.NpgsqlDataSource.Create(cluster.ServiceEnvironment["WORKQ_POSTGRES"]))
            await new Workq.Shared.Storage.UnhandledStore(db).TrimAsync(3, CancellationToken.None);

        var entry = Assert.Single(await UnhandledAsync(unhandledUrl, token));
        Assert.Equal(3, entry.Count);
        Assert.Equal(2, entry.Dropped);
        Assert.Equal("5", entry.Sample!.GetValue<string>());

        // The newest three are the ones that run once the worker exists.
        await cluster.DeployAsync(canvas, "crowd", "return Event;", token: token);
        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "crowd"),
            t => t.Count == 3,
            Patience,
            "the kept events ran");
        Assert.Equal([3, 4, 5], traces.Select(t => t.Result!.GetValue<int>()).Order());
    }

    [Fact]
    public async Task An_un_enqueued_event_is_never_run_and_is_traced_cancelled()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "u", "return Event;", token: token);
        await PostAsync(canvas, "u/pause", token);
        var ids = await cluster.EmitBatchAsync(canvas, [("u", "1"), ("u", "2"), ("u", "3")], token);

        using (var cancel = await cluster.SendAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/u/events/{ids[1]}"),
            token))
            Assert.Equal(202, (int)cancel.StatusCode);
        await PostAsync(canvas, "u/resume", token);

        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "u"),
            t => t.Count == 3,
            Patience,
            "three traces");
        var byId = traces.ToDictionary(t => t.EventId);
        Assert.Equal("completed", byId[ids[0]].Status);
        Assert.Equal("cancelled", byId[ids[1]].Status);
        Assert.Null(byId[ids[1]].Result);
        Assert.Equal("completed", byId[ids[2]].Status);
        var worker = await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "u"),
            w => w.Stats.Processed == 2,
            Patience,
            "two processed");
        Assert.Equal(0, worker.Stats.Failed);
    }

    [Fact]
    public async Task Purge_empties_the_queue_and_says_how_many_events_went()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "full", "return 1;", token: token);
        await PostAsync(canvas, "full/pause", token);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "full"),
            w => w.Stats.Consumers == 0,
            Patience,
            "no consumers");
        await cluster.EmitBatchAsync(canvas, Enumerable.Range(0, 7).Select(i => ("full", i.ToString())), token);

        var purged = await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/full/events"),
            token);
        Assert.Equal(7, purged.As<PurgeAnswer>().Purged);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "full"),
            w => w.Stats.Queued == 0,
            Patience,
            "queue empty");
        await PostAsync(canvas, "full/resume", token);
        await cluster.EmitAsync(canvas, "full", "99", token);
        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "full"),
            t => t.Count >= 1,
            Patience,
            "the later event ran");
        Assert.Equal(99, Assert.Single(traces).Event!.GetValue<int>());
    }

    [Fact]
    public async Task Concurrency_changes_live_without_losing_or_repeating_an_event()
    {
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync();
        // Each run reports its id and when it finished; runs take one second, so completions come in waves of
        // "concurrency" per instance.
        await cluster.DeployAsync(canvas, "slow", $$"""
            await Task.Delay(1000, CancellationToken);
            var ran = new StringContent($"{Meta.Id} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
            using (var r = await Http.PostAsync("{{sink.Url}}", ran, CancellationToken)) { }
            return null;
            """, concurrency: 2, token: token);
        var instances = cluster.Workers.Count(w => !w.HasExited);
        var ids = await cluster.EmitBatchAsync(
            canvas,
            Enumerable.Range(0, 20 * instances + 8 * instances).Select(i => ("slow", i.ToString())),
            token);

        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Count),
            c => c >= 4 * instances,
            Patience,
            "two waves at concurrency 2");
        var patchedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var patched = await cluster.JsonAsync(
            HttpMethod.Patch,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/slow"),
            token,
            """{"concurrency":20}""");
        Assert.Equal(20, patched.As<Worker>().Concurrency);

        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Count),
            c => c >= ids.Count,
            TimeSpan.FromSeconds(90),
            "every event ran");
        await cluster.EventuallyAsync(() => cluster.GetWorkerAsync(canvas, "slow"),
            w => w.Stats.Processed == ids.Count && w.Stats.Queued == 0, Patience, "the queue drained");

        var runs = sink.Calls.Select(c => c.Split(' ')).Select(p => (Id: Guid.Parse(p[0]), At: long.Parse(p[1])))
            .ToList();
        Assert.Equal(ids.Order(), runs.Select(r => r.Id).Order());
        static int Busiest(IEnumerable<long> times)
        {
            var sorted = times.Order().ToList();
            return sorted.Count == 0
                ? 0
                : sorted.Select((t, i) => sorted.Skip(i).TakeWhile(u => u - t < 500).Count()).Max();
        }
        // Before the change no half second saw more than one wave; after it, a wave far larger than that.
        Assert.InRange(Busiest(runs.Where(r => r.At < patchedAt).Select(r => r.At)), 1, 2 * instances);
        Assert.True(
            Busiest(runs.Where(r => r.At > patchedAt).Select(r => r.At)) > 2 * instances,
            "no wave larger than the old concurrency after the change");
    }

    [Fact]
    public async Task Pause_and_resume_take_effect_on_every_instance_within_a_second()
    {
        while (cluster.Workers.Count(w => !w.HasExited) < 2) await cluster.StartWorkerAsync();
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "tick", $$"""
            var ran = new StringContent(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString());
            using (var r = await Http.PostAsync("{{sink.Url}}", ran, CancellationToken)) { }
            return null;
            """, concurrency: 5, token: token);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "tick"),
            w => w.Stats.Consumers >= 2,
            Patience,
            "both instances consuming");

        using var emitting = new CancellationTokenSource();
        var emitter = Task.Run(async () =>
        {
            while (!emitting.IsCancellationRequested)
            {
                await cluster.EmitAsync(canvas, "tick", "null", token);
                await Task.Delay(10);   // the stream's pace, not a wait
            }
        });
        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Count),
            c => c >= 20,
            Patience,
            "events flowing");

        await PostAsync(canvas, "tick/pause", token);
        var pausedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "tick"),
            w => w.Stats.Queued >= 20,
            Patience,
            "events queueing while paused");
        var lastRun = sink.Calls.Select(long.Parse).Max();
        var pauseToStop = lastRun - pausedAt;

        var before = sink.Calls.Count;
        await PostAsync(canvas, "tick/resume", token);
        var resumedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Count),
            c => c > before,
            Patience,
            "runs after resume");
        var resumeToFirstRun = sink.Calls.Skip(before).Select(long.Parse).Min() - resumedAt;
        await emitting.CancelAsync();
        await emitter;

        output.WriteLine($"pause-to-stop: {pauseToStop} ms (last run after the pause answer; negative = stopped "
            + $"before it returned); resume-to-first-run: {resumeToFirstRun} ms");
        Assert.True(pauseToStop < 1000, $"a run started {pauseToStop} ms after the pause");
        Assert.True(resumeToFirstRun < 1000, $"the first run came {resumeToFirstRun} ms after the resume");
    }
}
