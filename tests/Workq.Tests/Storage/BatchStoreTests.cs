using Dapper;
using Workq.Shared.Storage;

namespace Workq.Tests.Storage;

/// <summary>The batch store's settler on PostgreSQL: what one batch does to a pass.</summary>
public sealed class BatchStoreTests(ThrowawayDatabase database) : IClassFixture<ThrowawayDatabase>
{
    private readonly BatchStore batches = new(database.Db);

    private async Task<Guid> ClosedBatchWithOneEndedMemberAsync(string canvas, string? callbackWorker)
    {
        var id = Guid.CreateVersion7();
        var member = Guid.CreateVersion7();
        var (created, _) = await batches.CreateAsync(
            new NewBatch(canvas, id, 0, null, null,
                callbackWorker is null ? null : new BatchCallback(callbackWorker, "1"u8.ToArray()), null),
            0,
            CancellationToken.None);
        Assert.Equal(id, created);
        Assert.Equal(BatchChange.Done, await batches.AddAsync(canvas, id, [(member, "w")], close: true,
            whileOpen: true, CancellationToken.None));
        await batches.RecordFinishesAsync([new BatchFinish(canvas, id, member, EventStatuses.Completed, "1")],
            CancellationToken.None);
        return id;
    }

    [Fact]
    public async Task A_batch_that_cannot_be_settled_is_reported_and_the_others_of_the_pass_finish()
    {
        var canvas = "settle-" + Guid.NewGuid().ToString("N")[..8];
        await database.CreateCanvasAsync(canvas);
        var broken = await ClosedBatchWithOneEndedMemberAsync(canvas, "report");
        var healthy = await ClosedBatchWithOneEndedMemberAsync(canvas, "report");
        // Its callback's body lost (only a hand in the database does that): storing the callback fails.
        await using (var connection = await database.Db.OpenConnectionAsync())
            await connection.ExecuteAsync("update batches set on_complete_event = null where id = @broken",
                new { broken });

        var failed = new List<Guid>();
        await batches.SettleAsync(200, (_, id, _) => failed.Add(id), CancellationToken.None);

        Assert.Equal([broken], failed);
        var done = await batches.FindAsync(canvas, healthy, CancellationToken.None);
        Assert.NotNull(done!.FinishedAt);
        Assert.Equal((1, 1), (done.Total, done.Completed));
        Assert.Null((await batches.FindAsync(canvas, broken, CancellationToken.None))!.FinishedAt);
        // Its finish waits, uncounted, for a pass that can settle it; counted once then.
        await using (var connection = await database.Db.OpenConnectionAsync())
            await connection.ExecuteAsync("update batches set on_complete_event = '\\x31' where id = @broken",
                new { broken });
        await batches.SettleAsync(200, (_, id, _) => failed.Add(id), CancellationToken.None);
        var settled = await batches.FindAsync(canvas, broken, CancellationToken.None);
        Assert.NotNull(settled!.FinishedAt);
        Assert.Equal((1, 1, 1), (settled.Total, settled.Seen, settled.Completed));
        Assert.Single(failed);
    }
}
