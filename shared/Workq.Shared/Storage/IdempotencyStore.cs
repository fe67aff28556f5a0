using Dapper;
using Npgsql;
using Workq.Shared.Handlers;

namespace Workq.Shared.Storage;

/// <summary>
/// Idempotency keys: the first emit with a key on a canvas claims it for 24 hours; later emits with
/// the same key get the first event's id back and enqueue nothing. Only keyed emits touch the
/// database, and a whole batch's keys cost one round trip.
/// </summary>
public sealed class IdempotencyStore(NpgsqlDataSource db) : ICanvasData
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync("delete from idempotency_keys where canvas = @canvas", new { canvas }, cancellationToken);

    /// <summary>
    /// Claims each key for its proposed id. Returns, per key, the id (and time) that owns it: the proposed one when
    /// this call won. Keys are compared as stored (<see cref="TenantText.Store"/>): give them in that form, each once.
    /// <see cref="CanvasGoneException"/> when the canvas was deleted or re-created since <paramref
    /// name="canvasIncarnation"/>: no key is claimed.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, (Guid Id, DateTimeOffset EnqueuedAt)>> ClaimAsync(
        string canvas,
        long canvasIncarnation,
        IReadOnlyList<(string Key, Guid Id)> claims,
        DateTimeOffset enqueuedAt,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        using var results = await connection.QueryMultipleAsync(new CommandDefinition($"""
            with {FencedBatch.AliveCanvas("canvas", "canvasIncarnation")},
            claimed as (
                insert into idempotency_keys as k (canvas, key, event_id, enqueued_at)
                select @canvas, key, id, @enqueuedAt from unnest(@keys, @ids) as c(key, id) where exists (select 1 from
                    alive)
                on conflict (canvas, key) do update set event_id = excluded.event_id, enqueued_at = excluded.enqueued_at
                 where k.enqueued_at < now() - make_interval(secs => @windowSeconds))
            select exists (select 1 from alive);
            select key, event_id, enqueued_at from idempotency_keys where canvas = @canvas and key = any(@keys);
            """, new
        {
            canvas,
            canvasIncarnation,
            enqueuedAt = enqueuedAt.UtcDateTime,
            keys = claims.Select(c => TenantText.Store(c.Key)).ToArray(),
            ids = claims.Select(c => c.Id).ToArray(),
            windowSeconds = Window.TotalSeconds,
        }, transaction, cancellationToken: cancellationToken));
        if (!await results.ReadSingleAsync<bool>()) throw new CanvasGoneException(canvas);
        var rows = await results.ReadAsync<(string Key, Guid EventId, DateTime EnqueuedAt)>();
        await transaction.CommitAsync(cancellationToken);
        return rows.ToDictionary(
            r => r.Key,
            r => (r.EventId, new DateTimeOffset(DateTime.SpecifyKind(r.EnqueuedAt, DateTimeKind.Utc))),
            StringComparer.Ordinal);
    }

    /// <summary>The keys of these that an emit holds (within the window); keys as stored.</summary>
    public async Task<HashSet<string>> HeldAsync(
        string canvas,
        IReadOnlyList<string> keys,
        CancellationToken cancellationToken)
    {
        if (keys.Count == 0) return [];
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            "select key from idempotency_keys where canvas = @canvas and key = any(@keys) and enqueued_at >= now() - " +
                "make_interval(secs => @windowSeconds)",
            new { canvas, keys = keys.ToArray(), windowSeconds = Window.TotalSeconds },
            cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Gives keys back when their events could not be enqueued, so a retry with the same key is not answered with a
    /// lost id.
    /// </summary>
    public async Task ReleaseAsync(
        string canvas,
        IReadOnlyList<(string Key, Guid Id)> claims,
        CancellationToken cancellationToken)
    {
        if (claims.Count == 0) return;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from idempotency_keys k using unnest(@keys, @ids) as c(key, id) where k.canvas = @canvas and " +
                "k.key = c.key and k.event_id = c.id",
            new
            {
                canvas,
                keys = claims.Select(c => TenantText.Store(c.Key)).ToArray(),
                ids = claims.Select(c => c.Id)
                .ToArray()
            },
            cancellationToken: cancellationToken));
    }
}
