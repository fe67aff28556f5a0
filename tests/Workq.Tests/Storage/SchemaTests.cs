using Dapper;
using Workq.Shared.Storage;

namespace Workq.Tests.Storage;

/// <summary>
/// A service's start on a database whose schema is already this build's runs no DDL: an <c>alter table ... if not
/// exists</c> takes its table's exclusive lock even when it changes nothing, and at every start it queued behind live
/// traffic and deadlocked with it (a pump's delete: duplicate publishes; a settler's update).
/// </summary>
public sealed class SchemaTests(ThrowawayDatabase database) : IClassFixture<ThrowawayDatabase>
{
    [Fact]
    public async Task A_start_on_a_current_schema_takes_no_lock_that_live_traffic_holds()
    {
        await Schema.EnsureAsync(database.Db, CancellationToken.None);
        await using var live = await database.Db.OpenConnectionAsync();
        await using var transaction = await live.BeginTransactionAsync();
        // What a pump deleting a published event holds until it commits.
        await live.ExecuteAsync("lock table scheduled_events in row exclusive mode", transaction: transaction);

        var start = Schema.EnsureAsync(database.Db, CancellationToken.None);
        var finished = await Task.WhenAny(start, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(finished == start, "the start waited for the live transaction's lock: it ran DDL");
        await start;
        Assert.Equal(1, await live.ExecuteScalarAsync<int>("select count(*) from workq_schema",
            transaction: transaction));
    }
}
