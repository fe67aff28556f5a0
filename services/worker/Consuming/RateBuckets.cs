using Dapper;
using Npgsql;
using Workq.Shared.Storage;

namespace Workq.Worker.Consuming;

/// <summary>
/// One token bucket per rate-limited worker, in PostgreSQL, shared by every worker instance. The bucket is a schedule
/// of token slots <c>interval</c> apart (GCRA): a grant takes the next slots that fall within <c>horizon</c> seconds
/// from now, in one statement, so instances never take the same slot and the slots never come faster than the limit. An
/// idle bucket starts its slots <c>perSeconds</c> back: a full bucket of <c>events</c> tokens.
/// </summary>
public sealed class RateBuckets(NpgsqlDataSource db) : IRateBuckets
{
    public async Task<RateGrant> GrantAsync(
        string canvas,
        string worker,
        RateLimit limit,
        int want,
        double horizon,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<RateGrant>(new CommandDefinition("""
            insert into worker_rate_buckets (canvas, worker, next_slot) values (@canvas, @worker, 0)
                on conflict do nothing;
            with clock as (select extract(epoch from clock_timestamp())::float8 as now),
            bucket as (
                select greatest(b.next_slot, clock.now - @burst) as first, clock.now
                  from worker_rate_buckets b, clock
                 where b.canvas = @canvas and b.worker = @worker
                   for update of b),
            granted as (
                select first, now,
                       least(@want, greatest(0, floor((now + @horizon - first) / @interval) + 1))::int as tokens
                  from bucket)
            update worker_rate_buckets b set next_slot = g.first + g.tokens * @interval
              from granted g
             where b.canvas = @canvas and b.worker = @worker
            returning g.first as "First", g.now as "Now", g.tokens as "Tokens"
            """, new
        {
            canvas,
            worker,
            want,
            horizon,
            interval = limit.Interval,
            burst = limit.PerSeconds - limit.Interval
        },
            cancellationToken: cancellationToken));
    }
}
