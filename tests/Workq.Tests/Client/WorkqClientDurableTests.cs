using Workq.Client;

namespace Workq.Tests.Client;

/// <summary>
/// Durable handlers through the .NET client against the real services: a <c>WaitFor</c> resumed by
/// <see cref="WorkqControlClient.SignalAsync"/>, a signal kept for a later <c>WaitFor</c>, and
/// <see cref="WorkqControlClient.CancelEventAsync"/> on a running, a queued and a finished event.
/// </summary>
[Collection(ClientsCollection.Name)]
public sealed class WorkqClientDurableTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private const string WaitForGo = """var v = await WaitFor("go", TimeSpan.FromMinutes(5)); return v;""";
    private const string Forever = "await Task.Delay(Timeout.Infinite, CancellationToken); return 1;";

    /// <summary>A canvas and both clients, on its token.</summary>
    private sealed record Setup(string Canvas, WorkqClient Emitter, WorkqControlClient Control) : IDisposable
    {
        public void Dispose()
        {
            Emitter.Dispose();
            Control.Dispose();
        }
    }

    private async Task<Setup> CanvasAsync(string worker, string code)
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("durable");
        var setup = new Setup(canvas, FastClients.Emitter(cluster, token), FastClients.Control(cluster, token));
        await setup.Control.DeployWorkerAsync(canvas, worker, code);
        return setup;
    }

    /// <summary>
    /// The event's status once it is <paramref name="status"/> (a status is written a moment after the 202).
    /// </summary>
    private Task<EventStatus?> StatusAsync(WorkqControlClient control, string canvas, Guid id, string status) =>
        cluster.EventuallyAsync<EventStatus?>(
            async () =>
            {
                try
                {
                    return await control.GetEventAsync(canvas, id);
                }
                catch (WorkqException e) when (e.StatusCode == HttpStatusCode.NotFound)
                {
                    return null;
                }
            },
            s => s?.Status == status,
            Patience,
            $"event {id} {status}");

    [Fact]
    public async Task EmitTiming_debounces_and_the_status_and_trace_read_back_what_the_run_absorbed()
    {
        using var setup = await CanvasAsync("index", "return Event;");
        var (canvas, emitter, control) = setup;
        var trailing = new EmitTiming(Debounce: new EmitDebounce("doc-17", TimeSpan.FromSeconds(0.5)));
        var ids = new List<Guid>();
        for (var n = 0; n < 3; n++) ids.Add(await emitter.EmitAsync(canvas, "index", new { n }, trailing));
        Assert.Single(ids.Distinct());

        var done = (await StatusAsync(control, canvas, ids[0], "completed"))!;
        Assert.Equal(new EventDebounce("doc-17", "trailing", 3), done.Debounce);
        Assert.Equal(2, done.Result!["n"]!.GetValue<int>());
        var trace = await cluster.EventuallyAsync(() => control.GetTracesAsync(canvas, "index"),
            t => t.Any(x => x.EventId == ids[0]), Patience, "its trace");
        Assert.Equal(new EventDebounce("doc-17", null, 3), trace.Single(x => x.EventId == ids[0]).Debounce);

        // Leading, with a cap: the first runs at once, and the second of its period answers the same id.
        var leading = new EmitTiming(
            Debounce: new EmitDebounce("doc-18", TimeSpan.FromMinutes(1), Leading: true, Max: TimeSpan.FromMinutes(5)));
        var first = await emitter.EmitAsync(canvas, "index", new { n = 10 }, leading);
        Assert.Equal(first, await emitter.EmitAsync(canvas, "index", new { n = 11 }, leading));
        var ran = (await StatusAsync(control, canvas, first, "completed"))!;
        Assert.Equal(10, ran.Result!["n"]!.GetValue<int>());
    }

    [Fact]
    public async Task EmitTiming_and_EmitItem_set_a_priority_and_the_status_trace_and_stats_read_it_back()
    {
        using var setup = await CanvasAsync("rank", "return Event;");
        var (canvas, emitter, control) = setup;
        var high = await emitter.EmitAsync(canvas, "rank", new { n = 1 }, new EmitTiming(Priority: EmitPriority.High));
        var batch = await emitter.EmitBatchAsync(canvas,
            [new EmitItem("rank", new { n = 2 }, Priority: EmitPriority.Low), new EmitItem("rank", new { n = 3 })]);

        Assert.Equal("high", (await StatusAsync(control, canvas, high, "completed"))!.Priority);
        Assert.Equal("low", (await StatusAsync(control, canvas, batch[0], "completed"))!.Priority);
        Assert.Equal("normal", (await StatusAsync(control, canvas, batch[1], "completed"))!.Priority);
        var traces = await cluster.EventuallyAsync(() => control.GetTracesAsync(canvas, "rank"),
            t => t.Count >= 3, Patience, "the three traces");
        Assert.Equal("high", traces.Single(t => t.EventId == high).Priority);
        var stats = (await control.GetWorkerAsync(canvas, "rank")).Stats;
        Assert.Equal(new QueuedByPriority(0, 0, 0), stats.QueuedByPriority);
    }

    [Fact]
    public async Task A_waiting_event_is_resumed_by_SignalAsync_and_returns_the_signals_value()
    {
        using var setup = await CanvasAsync("approve", WaitForGo);
        var (canvas, emitter, control) = setup;
        var id = await emitter.EmitAsync(canvas, "approve", new { order = 7 });

        var waiting = (await StatusAsync(control, canvas, id, "waiting"))!;
        Assert.Equal(("go", false), (waiting.WaitingFor, waiting.IsFinished));
        // runAt is the wait's time-out: five minutes after the run that waited.
        Assert.InRange(
            waiting.RunAt!.Value,
            DateTimeOffset.UtcNow + TimeSpan.FromMinutes(3),
            DateTimeOffset.UtcNow + TimeSpan.FromMinutes(6));
        await cluster.EventuallyAsync(
            () => control.GetWorkerAsync(canvas, "approve"),
            w => w.Stats.Waiting == 1 && w.Stats.Sleeping == 0,
            Patience,
            "the worker counting one waiting event");

        // Another name than the one it waits for is a 404; the awaited one resumes it.
        var other = await Assert.ThrowsAsync<WorkqException>(() => control.SignalAsync(canvas, id, "stop", 1));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        var signalled = await control.SignalAsync(canvas, id, "go", JsonNode.Parse("""{"ok":true}"""));
        Assert.Equal((id, "go", "resumed", true), (signalled.Id, signalled.Signal, signalled.State, signalled.Resumed));

        var done = await control.WaitForEventAsync(canvas, id, Patience);
        Assert.Equal("completed", done.Status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"ok":true}"""), done.Result), done.Result?.ToJsonString());
        Assert.Null(done.WaitingFor);
        var late = await Assert.ThrowsAsync<WorkqException>(() => control.SignalAsync(canvas, id, "go", 2));
        Assert.Equal(HttpStatusCode.NotFound, late.StatusCode);

        // Two runs, two traces, newest first: the resume that completed, then the first run that waited.
        var traces = await cluster.EventuallyAsync(
            async () => (await control.GetTracesAsync(canvas, "approve")).Where(t => t.EventId == id).ToList(),
            t => t.Count == 2,
            Patience,
            "both runs traced");
        Assert.Equal([("completed", 1), ("waiting", 0)], traces.Select(t => (t.Status, t.Resume)));
        await cluster.EventuallyAsync(
            () => control.GetWorkerAsync(canvas, "approve"),
            w => w.Stats.Waiting == 0,
            Patience,
            "no waiting event counted any more");
    }

    [Fact]
    public async Task A_signal_sent_before_the_WaitFor_is_kept_for_it_once()
    {
        using var setup = await CanvasAsync("approve", WaitForGo);
        var (canvas, emitter, control) = setup;
        await control.PauseAsync(canvas, "approve");
        var id = await emitter.EmitAsync(canvas, "approve", null);
        await StatusAsync(control, canvas, id, "queued");

        var kept = await control.SignalAsync(canvas, id, "go", "early");
        Assert.Equal(("kept", false), (kept.State, kept.Resumed));
        var again = await Assert.ThrowsAsync<WorkqException>(() => control.SignalAsync(canvas, id, "go", "twice"));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var badName = await Assert.ThrowsAsync<WorkqException>(() => control.SignalAsync(canvas, id, "no spaces", 1));
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);

        await control.ResumeAsync(canvas, "approve");
        var done = await control.WaitForEventAsync(canvas, id, Patience);
        Assert.Equal(("completed", "early"), (done.Status, done.Result?.GetValue<string>()));
    }

    [Fact]
    public async Task CancelEventAsync_stops_a_running_handler_and_the_event_ends_cancelled()
    {
        using var setup = await CanvasAsync("forever", Forever);
        var (canvas, emitter, control) = setup;
        // The cluster's handler time-out (3 s) bounds the window: on a loaded machine it can end the run before the
        // cancel reaches it. Such a try shows nothing about cancel, and another is made (three at most).
        for (var attempt = 1; ; attempt++)
        {
            var id = await emitter.EmitAsync(canvas, "forever", attempt);
            await StatusAsync(control, canvas, id, "running");
            CancelAccepted answer;
            try
            {
                answer = await control.CancelEventAsync(canvas, id);
            }
            catch (WorkqException late) when (late.StatusCode == HttpStatusCode.Conflict && attempt < 3)
            {
                continue;
            }
            var done = await control.WaitForEventAsync(canvas, id, Patience);
            if (done.Status == "timedOut" && attempt < 3) continue;
            Assert.Equal((id, "running", false), (answer.Id, answer.Status, answer.IsCancelled));
            Assert.Equal("cancelled", done.Status);
            await CancelledRunAsync(control, canvas, id);
            return;
        }
    }

    private async Task CancelledRunAsync(WorkqControlClient control, string canvas, Guid id)
    {
        var trace = await cluster.EventuallyAsync(
            async () => (await control.GetTracesAsync(canvas, "forever")).FirstOrDefault(t => t.EventId == id),
            t => t is not null,
            Patience,
            "the cancelled run's trace");
        Assert.Equal("cancelled", trace!.Status);
        Assert.Contains("Cancelled by the canvas's token", trace.Error?.Message);

        var final = await Assert.ThrowsAsync<WorkqException>(() => control.CancelEventAsync(canvas, id));
        Assert.Equal(HttpStatusCode.Conflict, final.StatusCode);
    }

    [Fact]
    public async Task CancelEventAsync_cancels_a_queued_event_at_once_and_an_unknown_one_is_a_404()
    {
        using var setup = await CanvasAsync("forever", Forever);
        var (canvas, emitter, control) = setup;
        await control.PauseAsync(canvas, "forever");
        var id = await emitter.EmitAsync(canvas, "forever", 1);
        await StatusAsync(control, canvas, id, "queued");

        var answer = await control.CancelEventAsync(canvas, id);
        Assert.Equal(("cancelled", true), (answer.Status, answer.IsCancelled));
        Assert.Equal("cancelled", (await control.GetEventAsync(canvas, id)).Status);

        var unknown = await Assert.ThrowsAsync<WorkqException>(() => control.CancelEventAsync(canvas, Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
