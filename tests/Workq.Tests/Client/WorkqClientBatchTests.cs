using Workq.Client;

namespace Workq.Tests.Client;

/// <summary>
/// Batches through both clients against the real services: create, add and close on the emitter, get, wait, list and
/// cancel on control, and the callbacks' events.
/// </summary>
[Collection(ClientsCollection.Name)]
public sealed class WorkqClientBatchTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private const string Square = """
        var n = Event!["n"]!.GetValue<int>();
        if (n < 0) throw new InvalidOperationException($"negative: {n}");
        return n * n;
        """;

    /// <summary>A canvas and both clients, on its token.</summary>
    private sealed record Setup(string Canvas, WorkqClient Emitter, WorkqControlClient Control) : IDisposable
    {
        public void Dispose()
        {
            Emitter.Dispose();
            Control.Dispose();
        }
    }

    /// <summary>A fresh canvas with "square" (fails on a negative n) and the callbacks' "report", "publish".</summary>
    private async Task<Setup> CanvasAsync()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("cb");
        var setup = new Setup(canvas, FastClients.Emitter(cluster, token), FastClients.Control(cluster, token));
        foreach (var (worker, code) in new[] { ("square", Square), ("report", "return Event;"),
            ("publish", "return Event;") })
            await setup.Control.DeployWorkerAsync(canvas, worker, code);
        return setup;
    }

    private static EmitItem Item(int n) => new("square", new { n });

    [Fact]
    public async Task A_batch_completes_with_its_counts_and_its_onComplete_event_completes()
    {
        using var setup = await CanvasAsync();
        var (canvas, emitter, control) = setup;

        var created = await emitter.CreateBatchAsync(
            canvas,
            [Item(1), Item(2), Item(-3)],
            onComplete: new BatchCallback("report", new { job = 7 }),
            onSuccess: new BatchCallback("publish", "never"),
            idempotencyKey: "job-7");

        Assert.Equal(3, created.Ids.Distinct().Count());
        var again = await emitter.CreateBatchAsync(canvas, [Item(9)], idempotencyKey: "job-7");
        Assert.Equal(created.BatchId, again.BatchId);
        Assert.Equal(created.Ids, again.Ids);

        var done = await control.WaitForBatchAsync(canvas, created.BatchId, Patience);
        Assert.True(done.IsCompleted, $"not completed within {Patience}: {done}");
        Assert.Equal(
            (created.BatchId, "completed", 3, 0, 2, 1, 0, 0, 0),
            (done.Id, done.State, done.Total, done.Pending, done.Completed, done.Failed, done.TimedOut,
                done.Cancelled, done.DeadLettered));
        Assert.NotNull(done.ClosedAt);
        Assert.NotNull(done.FinishedAt);
        Assert.Null(done.CancelledAt);
        Assert.Equal("report", done.OnComplete!.Worker);
        Assert.Equal("publish", done.OnSuccess!.Worker);
        Assert.Equal(done, await control.GetBatchAsync(canvas, created.BatchId));

        var callback = await control.WaitForEventAsync(canvas, done.OnComplete.EventId, Patience);
        Assert.Equal(("completed", "report"), (callback.Status, callback.Worker));
        Assert.Equal(7, callback.Result!["job"]!.GetValue<int>());
        // A member failed: onSuccess never runs (both callbacks are stored together, so it would be there by now).
        var noSuccess = await Assert.ThrowsAsync<WorkqException>(
            () => control.GetEventAsync(canvas, done.OnSuccess.EventId));
        Assert.Equal(HttpStatusCode.NotFound, noSuccess.StatusCode);
    }

    [Fact]
    public async Task An_open_batch_takes_added_events_and_completes_only_after_CloseBatchAsync()
    {
        using var setup = await CanvasAsync();
        var (canvas, emitter, control) = setup;

        var created = await emitter.CreateBatchAsync(
            canvas,
            [Item(1)],
            onComplete: new BatchCallback("report", null),
            open: true);
        Assert.Equal("completed", (await control.WaitForEventAsync(canvas, created.Ids[0], Patience)).Status);
        // Its only member ended, but an open batch does not complete.
        var open = await control.GetBatchAsync(canvas, created.BatchId);
        Assert.Equal(("open", 1, false), (open.State, open.Total, open.IsCompleted));
        Assert.Null(open.ClosedAt);

        var added = await emitter.AddToBatchAsync(canvas, created.BatchId, [Item(2), Item(-4)]);
        Assert.Equal(2, added.Count);
        await emitter.CloseBatchAsync(canvas, created.BatchId);
        await emitter.CloseBatchAsync(canvas, created.BatchId);

        var done = await control.WaitForBatchAsync(canvas, created.BatchId, Patience);
        Assert.True(done.IsCompleted, $"not completed within {Patience}: {done}");
        Assert.Equal((3, 2, 1), (done.Total, done.Completed, done.Failed));
        Assert.Equal("completed", (await control.WaitForEventAsync(canvas, done.OnComplete!.EventId, Patience)).Status);
        var late = await Assert.ThrowsAsync<WorkqException>(
            () => emitter.AddToBatchAsync(canvas, created.BatchId, [Item(5)]));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task ListBatchesAsync_pages_newest_first_and_filters_by_state()
    {
        using var setup = await CanvasAsync();
        var (canvas, emitter, control) = setup;
        var made = new List<Guid>();
        foreach (var open in new[] { false, true, false })
            made.Add((await emitter.CreateBatchAsync(canvas, [], open: open)).BatchId);
        foreach (var closed in new[] { made[0], made[2] })
            Assert.True((await control.WaitForBatchAsync(canvas, closed, Patience)).IsCompleted);

        var first = await control.ListBatchesAsync(canvas, limit: 2);
        Assert.Equal(2, first.Items.Count);
        Assert.NotNull(first.NextCursor);
        var second = await control.ListBatchesAsync(canvas, limit: 2, cursor: first.NextCursor);
        Assert.Null(second.NextCursor);
        var listed = first.Items.Concat(second.Items).ToList();
        Assert.Equal(made.AsEnumerable().Reverse(), listed.Select(b => b.Id));
        Assert.True(listed.Zip(listed.Skip(1)).All(p => p.First.CreatedAt >= p.Second.CreatedAt));

        Assert.Equal(made[1], Assert.Single((await control.ListBatchesAsync(canvas, state: "open")).Items).Id);
        Assert.Equal(
            [made[2], made[0]],
            (await control.ListBatchesAsync(canvas, state: "completed")).Items.Select(b => b.Id));
        var bad = await Assert.ThrowsAsync<WorkqException>(() => control.ListBatchesAsync(canvas, state: "done"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task CancelBatchAsync_cancels_the_waiting_members_and_onComplete_fires_with_the_counts()
    {
        using var setup = await CanvasAsync();
        var (canvas, emitter, control) = setup;
        var created = await emitter.CreateBatchAsync(
            canvas,
            [Item(1), new EmitItem("square", new { n = 2 }, Delay: TimeSpan.FromMinutes(10))],
            onComplete: new BatchCallback("report", "after cancel"),
            onSuccess: new BatchCallback("publish", "never"));
        Assert.Equal("completed", (await control.WaitForEventAsync(canvas, created.Ids[0], Patience)).Status);

        var cancelled = await control.CancelBatchAsync(canvas, created.BatchId);

        // Nothing was running: it completes with the cancel.
        Assert.Equal(("completed", 2, 1, 1, 0), (cancelled.State, cancelled.Total, cancelled.Completed,
            cancelled.Cancelled, cancelled.Pending));
        Assert.NotNull(cancelled.CancelledAt);
        Assert.Equal("cancelled", (await control.WaitForEventAsync(canvas, created.Ids[1], Patience)).Status);
        var callback = await control.WaitForEventAsync(canvas, cancelled.OnComplete!.EventId, Patience);
        Assert.Equal("after cancel", callback.Result!.GetValue<string>());
        var again = await Assert.ThrowsAsync<WorkqException>(() => control.CancelBatchAsync(canvas, created.BatchId));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task An_unknown_batch_is_a_404_WorkqException_on_every_route()
    {
        using var setup = await CanvasAsync();
        var (canvas, emitter, control) = setup;
        var unknown = Guid.NewGuid();

        foreach (var call in new Func<Task>[]
        {
            () => control.GetBatchAsync(canvas, unknown),
            () => control.WaitForBatchAsync(canvas, unknown, TimeSpan.FromSeconds(1)),
            () => control.CancelBatchAsync(canvas, unknown),
            () => emitter.AddToBatchAsync(canvas, unknown, [Item(1)]),
            () => emitter.CloseBatchAsync(canvas, unknown),
        })
        {
            var missing = await Assert.ThrowsAsync<WorkqException>(call);
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Contains($"No batch '{unknown}'", missing.Detail);
        }
    }
}
