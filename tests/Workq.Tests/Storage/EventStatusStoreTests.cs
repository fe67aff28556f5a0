using Dapper;
using Workq.Shared.Storage;

namespace Workq.Tests.Storage;

/// <summary>The event status store on PostgreSQL: one row per event that later writes replace in place, and pruning by last change.</summary>
public sealed class EventStatusStoreTests(ThrowawayDatabase database) : IClassFixture<ThrowawayDatabase>
{
    private readonly EventStatusStore store = new(database.Db);

    [Fact]
    public async Task Pruning_drops_what_has_not_changed_for_the_retention_and_keeps_an_old_event_that_changed_since()
    {
        var canvas = "prune-" + Guid.NewGuid().ToString("N")[..8];
        var enqueued = DateTimeOffset.UtcNow.AddDays(-3);
        var (stale, revived, fresh) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await store.UpsertAsync([EventStatusUpdate.Queued(canvas, stale, "w", enqueued), EventStatusUpdate.Queued(canvas, revived, "w", enqueued),
            EventStatusUpdate.Queued(canvas, fresh, "w", DateTimeOffset.UtcNow)], CancellationToken.None);
        // Both old events were last written two days ago; then one of them runs now (a delayed event, say).
        await using (var connection = await database.Db.OpenConnectionAsync())
            await connection.ExecuteAsync("update event_status set updated_at = now() - interval '2 days' where canvas = @canvas and id <> @fresh", new { canvas, fresh });
        await store.UpsertAsync([new EventStatusUpdate(canvas, revived, "w", EventStatuses.Running, EventStatuses.RunningRank, 1, enqueued, StartedAt: DateTimeOffset.UtcNow)],
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
        var canvas = "order-" + Guid.NewGuid().ToString("N")[..8];
        var id = Guid.NewGuid();
        var enqueued = DateTimeOffset.UtcNow;
        var started = enqueued.AddMilliseconds(5);
        await store.UpsertAsync([new EventStatusUpdate(canvas, id, "w", EventStatuses.Completed, EventStatuses.FinishedRank, 1, enqueued, StartedAt: started,
            FinishedAt: started.AddMilliseconds(3), Result: "7")], CancellationToken.None);
        // The emitter's queued, flushed after the worker's completed.
        await store.UpsertAsync([EventStatusUpdate.Queued(canvas, id, "w", enqueued)], CancellationToken.None);

        var row = await store.FindAsync(canvas, id, CancellationToken.None);
        Assert.Equal(EventStatuses.Completed, row!.Status);
        Assert.Equal("7", row.Result);
        Assert.NotNull(row.StartedAt);
    }
}
