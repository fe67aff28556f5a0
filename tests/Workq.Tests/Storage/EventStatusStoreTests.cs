using Dapper;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Tests.Storage;

/// <summary>
/// The event status store on PostgreSQL: one row per event that later writes replace in place, the emitter's queued of
/// a whole request in one row that the event's own row outranks, the worker's finished runs many to a row, and pruning
/// by last change.
/// </summary>
public sealed class EventStatusStoreTests(ThrowawayDatabase database) : IClassFixture<ThrowawayDatabase>
{
    private readonly EventStatusStore store = new(database.Db);

    /// <summary>A fresh canvas (the store writes only for one that is alive): its name.</summary>
    private async Task<string> CanvasAsync(string prefix)
    {
        var canvas = prefix + Guid.NewGuid().ToString("N")[..8];
        await database.CreateCanvasAsync(canvas);
        return canvas;
    }

    private static EventStatusUpdate Queued(string canvas, Guid id, DateTimeOffset enqueuedAt) =>
        EventStatusUpdate.Queued(new EventEnvelope(id, canvas, "w", enqueuedAt, 0, null));

    [Fact]
    public async Task Pruning_drops_what_has_not_changed_for_the_retention_and_keeps_an_old_event_that_changed_since()
    {
        var canvas = await CanvasAsync("prune-");
        var enqueued = DateTimeOffset.UtcNow.AddDays(-3);
        var (stale, revived, fresh) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await store.UpsertAsync([Queued(canvas, stale, enqueued), Queued(canvas, revived, enqueued), Queued(
            canvas,
            fresh,
            DateTimeOffset.UtcNow)],
            CancellationToken.None);
        // Both old events were last written two days ago; then one of them runs now (a delayed event, say).
        await using (var connection = await database.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                "update event_status set updated_at = now() - interval '2 days' "
                + "where canvas = @canvas and id <> @fresh",
                new { canvas, fresh });
        await store.UpsertAsync([new EventStatusUpdate(
            canvas,
            revived,
            "w",
            EventStatuses.Running,
            EventStatuses.RunningRank,
            1,
            enqueued,
            StartedAt: DateTimeOffset.UtcNow)],
            CancellationToken.None);

        Assert.True(await store.PruneAsync(TimeSpan.FromHours(24), CancellationToken.None) >= 1);

        Assert.Null(await store.FindAsync(canvas, stale, CancellationToken.None));
        var kept = await store.FindAsync(canvas, revived, CancellationToken.None);
        Assert.Equal(EventStatuses.Running, kept!.Status);
        // The row's first write set enqueuedAt; a later write leaves it.
        Assert.Equal(enqueued.ToUnixTimeMilliseconds(), kept.EnqueuedAt.ToUnixTimeMilliseconds());
        Assert.Equal(EventStatuses.Queued, (await store.FindAsync(canvas, fresh, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task A_later_status_replaces_the_row_and_an_earlier_one_arriving_late_does_not()
    {
        var canvas = await CanvasAsync("order-");
        var id = Guid.NewGuid();
        var enqueued = DateTimeOffset.UtcNow;
        var started = enqueued.AddMilliseconds(5);
        await store.UpsertAsync([new EventStatusUpdate(
            canvas,
            id,
            "w",
            EventStatuses.Completed,
            EventStatuses.FinishedRank,
            1,
            enqueued,
            StartedAt: started,
            FinishedAt: started.AddMilliseconds(3),
            Result: "7")], CancellationToken.None);
        // The emitter's queued, flushed after the worker's completed.
        await store.UpsertAsync([Queued(canvas, id, enqueued)], CancellationToken.None);

        var row = await store.FindAsync(canvas, id, CancellationToken.None);
        Assert.Equal(EventStatuses.Completed, row!.Status);
        Assert.Equal("7", row.Result);
        Assert.NotNull(row.StartedAt);
    }
    private static EmittedEvents Request(string canvas, DateTimeOffset enqueuedAt, params string[] workers) =>
        new(canvas, enqueuedAt, [.. workers.Select(_ => Guid.CreateVersion7(enqueuedAt))], workers);

    [Fact]
    public async Task An_emit_requests_events_read_as_queued_from_its_one_row_until_a_later_status_outranks_it()
    {
        var canvas = await CanvasAsync("emits-");
        var enqueued = DateTimeOffset.UtcNow;
        var request = Request(canvas, enqueued, "a", "b", "a");
        var other = Request(canvas, enqueued, "c");
        await store.WriteAsync([], [request, other], CancellationToken.None);
        await using (var connection = await database.Db.OpenConnectionAsync())
            Assert.Equal(2, await connection.ExecuteScalarAsync<int>(
                "select count(*) from event_emits where canvas = @canvas",
                new { canvas }));

        for (var i = 0; i < 3; i++)
        {
            var row = await store.FindAsync(canvas, request.Ids[i], CancellationToken.None);
            Assert.Equal(
                (request.Ids[i], request.Workers[i], EventStatuses.Queued, 1),
                (row!.Id, row.Worker, row.Status, row.Attempts));
            Assert.Equal(enqueued.ToUnixTimeMilliseconds(), row.EnqueuedAt.ToUnixTimeMilliseconds());
            Assert.Null(row.StartedAt);
        }
        Assert.Equal("c", (await store.FindAsync(canvas, other.Ids[0], CancellationToken.None))!.Worker);
        // Another canvas's token asks for the same ids: they are not its events.
        Assert.Null(await store.FindAsync(canvas + "x", request.Ids[0], CancellationToken.None));
        // An id of the same millisecond that no request enqueued, and one of another kind.
        Assert.Null(await store.FindAsync(canvas, Guid.CreateVersion7(enqueued), CancellationToken.None));
        Assert.Null(await store.FindAsync(canvas, Guid.NewGuid(), CancellationToken.None));

        // The worker's row, whichever flush lands first, outranks the request's queued.
        await store.UpsertAsync([new EventStatusUpdate(
            canvas,
            request.Ids[1],
            "b",
            EventStatuses.Completed,
            EventStatuses.FinishedRank,
            1,
            enqueued,
            StartedAt: enqueued,
            FinishedAt: enqueued.AddMilliseconds(2),
            Result: "1")], CancellationToken.None);
        Assert.Equal(
            EventStatuses.Completed,
            (await store.FindAsync(canvas, request.Ids[1], CancellationToken.None))!.Status);
        Assert.Equal(
            EventStatuses.Queued,
            (await store.FindAsync(canvas, request.Ids[0], CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Cancelling_an_event_known_from_its_emit_only_gives_a_cancelled_row_a_started_run_keeps_status()
    {
        var canvas = await CanvasAsync("cancel-");
        var enqueued = DateTimeOffset.UtcNow;
        var request = Request(canvas, enqueued, "w", "w");
        await store.WriteAsync([], [request], CancellationToken.None);
        await store.UpsertAsync([new EventStatusUpdate(
            canvas,
            request.Ids[1],
            "w",
            EventStatuses.Running,
            EventStatuses.RunningRank,
            1,
            enqueued,
            StartedAt: DateTimeOffset.UtcNow)], CancellationToken.None);

        await store.CancelAsync(canvas, 0, "w", request.Ids[0], null, CancellationToken.None);
        await store.CancelAsync(canvas, 0, "w", request.Ids[1], null, CancellationToken.None);
        // Another canvas cannot cancel them.
        var other = await CanvasAsync("cancel-other-");
        await store.CancelAsync(other, 0, "w", request.Ids[0], null, CancellationToken.None);

        var cancelled = await store.FindAsync(canvas, request.Ids[0], CancellationToken.None);
        Assert.Equal((EventStatuses.Cancelled, "w"), (cancelled!.Status, cancelled.Worker));
        Assert.NotNull(cancelled.FinishedAt);
        Assert.Equal(
            EventStatuses.Running,
            (await store.FindAsync(canvas, request.Ids[1], CancellationToken.None))!.Status);
        Assert.Null(await store.FindAsync(other, request.Ids[0], CancellationToken.None));
    }

    /// <summary>
    /// The upsert's rule is the recorder's (<see cref="EventStatusUpdate.Supersedes"/>): every order of every history's
    /// writes, each order its own event and each step one flush, ends in the history's last status.
    /// </summary>
    [Fact]
    public async Task Whatever_order_a_historys_writes_land_in_the_store_keeps_its_last_status()
    {
        var canvas = await CanvasAsync("history-");
        var expected = new Dictionary<Guid, (string Ends, string Order)>();
        foreach (var (name, writes, ends) in EventStatusHistories.All)
        {
            var orders = EventStatusHistories.Orders(writes).Select(order => (Id: Guid.NewGuid(), Writes: order))
                .ToList();
            for (var step = 0; step < writes.Length; step++)
                await store.UpsertAsync(
                    orders.Select(o => o.Writes[step] with { Canvas = canvas, Id = o.Id }).ToList(),
                    CancellationToken.None);
            foreach (var (id, order) in orders) expected[id]
                = (ends, $"{name}: {string.Join(" → ", order.Select(w => $"{w.Status}/{w.Attempts}"))}");
        }

        // Read as the API reads them: the event's row folded with its finished runs, which are stored apart.
        var stored = new Dictionary<Guid, string>();
        foreach (var id in expected.Keys)
            if (await store.FindAsync(canvas, id, CancellationToken.None) is { } row) stored[id] = row.Status;
        var wrong = expected.Where(e => stored.GetValueOrDefault(e.Key) != e.Value.Ends)
            .Select(e => $"{e.Value.Order} ends {stored.GetValueOrDefault(e.Key)}, not {e.Value.Ends}").ToList();
        Assert.True(expected.Count > 300, $"only {expected.Count} orders");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(20)));
    }

    [Fact]
    public async Task An_un_enqueue_that_removed_a_delayed_event_cancels_it_for_good_whenever_its_scheduled_lands()
    {
        var canvas = await CanvasAsync("cancel-delayed-");
        var enqueued = DateTimeOffset.UtcNow;
        var envelope = new EventEnvelope(Guid.CreateVersion7(enqueued), canvas, "w", enqueued, 0, null);
        var early = envelope with { Id = Guid.CreateVersion7(enqueued) };

        // The issue's order: the cancel first, the emit's flush after it. And the other order.
        await store.CancelAsync(canvas, 0, "w", envelope.Id, enqueued, CancellationToken.None);
        await store.UpsertAsync(
            [EventStatusUpdate.Scheduled(envelope, enqueued.AddMinutes(1))],
            CancellationToken.None);
        await store.UpsertAsync([EventStatusUpdate.Scheduled(early, enqueued.AddMinutes(1))], CancellationToken.None);
        await store.CancelAsync(canvas, 0, "w", early.Id, enqueued, CancellationToken.None);

        foreach (var id in new[] { envelope.Id, early.Id })
        {
            var row = await store.FindAsync(canvas, id, CancellationToken.None);
            Assert.Equal((EventStatuses.Cancelled, "w"), (row!.Status, row.Worker));
            Assert.NotNull(row.FinishedAt);
        }
    }

    [Fact]
    public async Task Emit_requests_are_pruned_after_the_retention_and_go_with_their_canvas()
    {
        var (old, deleted) = (await CanvasAsync("prune-emits-"), await CanvasAsync("gone-"));
        var stale = Request(old, DateTimeOffset.UtcNow.AddDays(-2), "w");
        var fresh = Request(old, DateTimeOffset.UtcNow, "w");
        var doomed = Request(deleted, DateTimeOffset.UtcNow, "w");
        await store.WriteAsync([], [stale, fresh, doomed], CancellationToken.None);

        Assert.True(await store.PruneAsync(TimeSpan.FromHours(24), CancellationToken.None) >= 1);
        await store.DeleteCanvasAsync(deleted, CancellationToken.None);

        Assert.Null(await store.FindAsync(old, stale.Ids[0], CancellationToken.None));
        Assert.Equal(EventStatuses.Queued, (await store.FindAsync(old, fresh.Ids[0], CancellationToken.None))!.Status);
        Assert.Null(await store.FindAsync(deleted, doomed.Ids[0], CancellationToken.None));
    }

    private static EventStatusUpdate Finished(
        string canvas,
        Guid id,
        DateTimeOffset startedAt,
        string status = EventStatuses.Completed,
        string? result = null) =>
        new(
            canvas,
            id,
            "w",
            status,
            EventStatuses.FinishedRank,
            1,
            startedAt,
            StartedAt: startedAt,
            FinishedAt: startedAt.AddMilliseconds(2),
            Result: result);

    [Fact]
    public async Task A_flushs_finished_runs_are_one_row_per_second_of_their_ids_and_each_reads_as_its_own()
    {
        var canvas = await CanvasAsync("finishes-");
        var at = DateTimeOffset.UtcNow;
        var ids = Enumerable.Range(0, 50).Select(_ => Guid.CreateVersion7(at)).ToList();
        var later = Guid.CreateVersion7(at.AddSeconds(2));
        await store.UpsertAsync(
            [.. ids.Select((id, i) => Finished(canvas, id, at, i % 2 == 0 ? EventStatuses.Completed : EventStatuses
                .Failed, result: $"{{\"n\":{i}}}")), Finished(canvas, later, at)],
            CancellationToken.None);

        await using (var connection = await database.Db.OpenConnectionAsync())
        {
            Assert.Equal(2, await connection.ExecuteScalarAsync<int>(
                "select count(*) from event_finishes where canvas = @canvas",
                new { canvas }));
            Assert.Equal(0, await connection.ExecuteScalarAsync<int>(
                "select count(*) from event_status where canvas = @canvas",
                new { canvas }));
        }
        for (var i = 0; i < ids.Count; i++)
        {
            var row = await store.FindAsync(canvas, ids[i], CancellationToken.None);
            Assert.Equal(
                (ids[i], i % 2 == 0 ? EventStatuses.Completed : EventStatuses.Failed, $"{{\"n\":{i}}}"),
                (row!.Id, row.Status, row.Result));
            Assert.NotNull(row.FinishedAt);
        }
        Assert.Equal(EventStatuses.Completed, (await store.FindAsync(canvas, later, CancellationToken.None))!.Status);
        // Another canvas asking for them finds nothing.
        Assert.Null(await store.FindAsync(await CanvasAsync("finishes-other-"), ids[0], CancellationToken.None));
    }

    [Fact]
    public async Task A_large_flush_of_finished_runs_is_compressed_with_lz4_and_reads_back_whole()
    {
        var canvas = await CanvasAsync("finishes-lz4-");
        var at = DateTimeOffset.UtcNow;
        var ids = Enumerable.Range(0, 2_000).Select(_ => Guid.CreateVersion7(at)).ToList();
        await store.UpsertAsync(
            [.. ids.Select((id, i) => Finished(canvas, id, at, result: $"{{\"n\":{i}}}"))],
            CancellationToken.None);

        await using (var connection = await database.Db.OpenConnectionAsync())
        {
            var compressions = (await connection.QueryAsync<string?>(
                "select pg_column_compression(enqueued_at) from event_finishes where canvas = @canvas",
                new { canvas })).ToList();
            Assert.Equal("lz4", Assert.Single(compressions));
        }
        foreach (var i in new[] { 0, 999, 1_999 })
            Assert.Equal($"{{\"n\":{i}}}", (await store.FindAsync(canvas, ids[i], CancellationToken.None))!.Result);
    }

    [Fact]
    public async Task A_redriven_event_reads_as_its_redrive_not_as_a_run_that_finished_before_it_was_dead_lettered()
    {
        var canvas = await CanvasAsync("redrive-");
        var at = DateTimeOffset.UtcNow.AddSeconds(-10);
        var envelope = new EventEnvelope(Guid.CreateVersion7(at), canvas, "w", at, 0, null);
        // A run finished (its ack lost), a redelivery crashed and was dead-lettered, then an operator redrove it.
        await store.UpsertAsync([Finished(canvas, envelope.Id, at)], CancellationToken.None);
        await store.UpsertAsync(
            [EventStatusUpdate.DeadLettered(envelope, 2, "runner crashed") with { StartedAt = at.AddSeconds(1) }],
            CancellationToken.None);
        Assert.Equal(
            EventStatuses.DeadLettered,
            (await store.FindAsync(canvas, envelope.Id, CancellationToken.None))!.Status);
        await store.UpsertAsync(
            [EventStatusUpdate.Queued(envelope, restartedAt: DateTimeOffset.UtcNow)],
            CancellationToken.None);
        Assert.Equal(
            EventStatuses.Queued,
            (await store.FindAsync(canvas, envelope.Id, CancellationToken.None))!.Status);

        // The redriven run's end is the event's.
        await store.UpsertAsync(
            [Finished(canvas, envelope.Id, DateTimeOffset.UtcNow, result: "2")],
            CancellationToken.None);
        var row = await store.FindAsync(canvas, envelope.Id, CancellationToken.None);
        Assert.Equal((EventStatuses.Completed, "2"), (row!.Status, row.Result));
    }

    [Fact]
    public async Task Finished_runs_are_pruned_by_when_they_were_written_and_go_with_their_canvas()
    {
        var (kept, deleted) = (await CanvasAsync("prune-finishes-"), await CanvasAsync("gone-finishes-"));
        var at = DateTimeOffset.UtcNow;
        var (stale, fresh, doomed) = (Guid.CreateVersion7(at), Guid.CreateVersion7(at), Guid.CreateVersion7(at));
        await store.UpsertAsync([Finished(kept, stale, at)], CancellationToken.None);
        await using (var connection = await database.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                "update event_finishes set written_at = now() - interval '2 days' where canvas = @kept",
                new { kept });
        await store.UpsertAsync([Finished(kept, fresh, at), Finished(deleted, doomed, at)], CancellationToken.None);

        Assert.True(await store.PruneAsync(TimeSpan.FromHours(24), CancellationToken.None) >= 1);
        await store.DeleteCanvasAsync(deleted, CancellationToken.None);

        Assert.Null(await store.FindAsync(kept, stale, CancellationToken.None));
        Assert.Equal(EventStatuses.Completed, (await store.FindAsync(kept, fresh, CancellationToken.None))!.Status);
        Assert.Null(await store.FindAsync(deleted, doomed, CancellationToken.None));
    }
}
