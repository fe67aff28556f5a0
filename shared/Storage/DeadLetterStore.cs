using Dapper;
using Npgsql;
using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

public sealed record DeadLetter(Guid Id, System.Text.Json.Nodes.JsonNode? Event, string Reason, int Attempts, DateTimeOffset DeadLetteredAt);

/// <summary>Events the broker gave up on (delivery limit) or that exhausted a retry policy, kept per worker, one row per event.</summary>
public sealed class DeadLetterStore(NpgsqlDataSource db)
{
    public async Task AddAsync(EventEnvelope envelope, ReadOnlyMemory<byte> body, string reason, int attempts, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            with kept as (
                insert into dead_letters (canvas, worker, event_id, enqueued_at, depth, trace_parent, body, reason, attempts)
                select @Canvas, @Worker, @Id, @EnqueuedAt, @Depth, @TraceParent, @body, @reason, @attempts
                 where exists (select 1 from workers where canvas = @Canvas and name = @Worker)
                    on conflict (canvas, worker, event_id) do update
                   set reason = excluded.reason, attempts = excluded.attempts, body = excluded.body, dead_lettered_at = now()
                returning (xmax = 0) as inserted),
            -- Counted once per event: a second copy of the same dead letter only refreshes the row.
            counted as (
                update workers set dead_lettered = dead_lettered + 1
                 where canvas = @Canvas and name = @Worker and exists (select 1 from kept where inserted)
                returning 1)
            -- ... and in the minute it was dead-lettered (MetricsStore).
            insert into metrics_minute as m (canvas, worker, at, dead_lettered)
            select @Canvas, @Worker, date_bin('1 minute', now(), timestamptz '1970-01-01Z'), 1 from counted
                on conflict (canvas, worker, at) do update set dead_lettered = m.dead_lettered + 1;
            """, new { envelope.Canvas, envelope.Worker, envelope.Id, EnqueuedAt = envelope.EnqueuedAt.UtcDateTime, envelope.Depth, envelope.TraceParent, body = body.ToArray(), reason, attempts },
            cancellationToken: cancellationToken));
    }

    public async Task TrimAsync(int maxPerWorker, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            delete from dead_letters d using (
                select seq, row_number() over (partition by canvas, worker order by seq desc) as n from dead_letters) r
             where d.seq = r.seq and r.n > @maxPerWorker
            """, new { maxPerWorker }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<DeadLetter>> ListAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(Guid EventId, byte[] Body, string Reason, int Attempts, DateTime DeadLetteredAt)>(new CommandDefinition("""
            select event_id, body, reason, attempts, dead_lettered_at from dead_letters
             where canvas = @canvas and worker = @worker order by seq desc limit 1000
            """, new { canvas, worker }, cancellationToken: cancellationToken));
        return rows.Select(r => new DeadLetter(r.EventId, JsonText.ParseOrString(r.Body), r.Reason, r.Attempts, UnhandledStore.Utc(r.DeadLetteredAt))).ToList();
    }

    public async Task<int> DiscardAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "delete from dead_letters where canvas = @canvas and worker = @worker", new { canvas, worker }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Puts a worker's dead letters back into its queue (with the attempt count starting over), deleting each once confirmed.
    /// When the broker refuses one (the queue is full), those before it are deleted and the error is thrown: the rest stay.
    /// </summary>
    public async Task<int> RedriveAsync(string canvas, string worker, Func<ParkedEvent, Task> publish, CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var rows = (await connection.QueryAsync<UnhandledStore.Row>(new CommandDefinition("""
                select seq, canvas, worker, event_id, enqueued_at, depth, trace_parent, body from dead_letters
                 where canvas = @canvas and worker = @worker order by seq limit 1000 for update skip locked
                """, new { canvas, worker }, transaction, cancellationToken: cancellationToken))).ToList();
            if (rows.Count == 0) return total;
            var (published, error) = await UnhandledStore.Row.PublishInOrderAsync(rows, publish);
            await connection.ExecuteAsync(new CommandDefinition("delete from dead_letters where seq = any(@seqs)",
                new { seqs = published }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            error?.Throw();
            total += rows.Count;
        }
    }
}
