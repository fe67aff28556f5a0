using Dapper;
using Workq.Shared.Messaging;
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

    [Fact]
    public async Task Finishes_written_as_dispatchers_settle_each_count_though_duplicates_reach_the_total_early()
    {
        // Members ending while their batch's exact count runs, which duplicates (deliveries run again after a worker
        // instance died) bring about before every member has ended: CI once left a batch 6 members short for good.
        // Ten batches at once, four times over, so that the race, if there is one, is all but certain to be run.
        const int members = 60;
        var canvas = "race-" + Guid.NewGuid().ToString("N")[..8];
        await database.CreateCanvasAsync(canvas);
        for (var round = 0; round < 4; round++)
        {
            var ids = new List<Guid>();
            for (var b = 0; b < 10; b++) ids.Add(await ClosedBatchAsync(canvas, members));

            // Two dispatchers settle as fast as they can while the members end.
            using var writing = new CancellationTokenSource();
            var settlers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                while (!writing.IsCancellationRequested)
                    await batches.SettleAsync(200, (_, _, e) => throw e, CancellationToken.None);
            })).ToList();
            await Task.WhenAll(ids.Select(id => EndMembersAsync(canvas, id, members)));
            await writing.CancelAsync();
            await Task.WhenAll(settlers);
            await batches.SettleAsync(200, (_, _, e) => throw e, CancellationToken.None);

            foreach (var id in ids)
            {
                var settled = (await batches.FindAsync(canvas, id, CancellationToken.None))!;
                Assert.Equal((members, members, true),
                    (settled.Total, settled.Completed, settled.FinishedAt is not null));
            }
        }
    }

    private async Task<Guid> ClosedBatchAsync(string canvas, int members)
    {
        var id = Guid.CreateVersion7();
        await batches.CreateAsync(new NewBatch(canvas, id, 0, null, null, null, null), 0, CancellationToken.None);
        var events = Enumerable.Range(0, members).Select(i => (DerivedIds.Member(id, i), "w")).ToList();
        Assert.Equal(BatchChange.Done, await batches.AddAsync(canvas, id, events, close: true, whileOpen: true,
            CancellationToken.None));
        return id;
    }

    /// <summary>
    /// Four writers (worker instances) record each member's finish once, and with it as many duplicates of another as
    /// the batch has members, so that every settle pass that counts a write finds the batch's total reached, and counts
    /// it exactly, while members are still ending.
    /// </summary>
    private Task EndMembersAsync(string canvas, Guid batch, int members) =>
        Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < members; i += 4)
                await batches.RecordFinishesAsync(
                    [
                        new BatchFinish(canvas, batch, DerivedIds.Member(batch, i), EventStatuses.Completed, "1"),
                        .. Enumerable.Repeat(
                            new BatchFinish(canvas, batch, DerivedIds.Member(batch, i / 2), EventStatuses.Completed,
                                "1"),
                            members),
                    ],
                    CancellationToken.None);
        })));
}
