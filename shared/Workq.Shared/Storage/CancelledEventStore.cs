using Dapper;
using Npgsql;

namespace Workq.Shared.Storage;

/// <summary>
/// Un-enqueued event ids. Worker instances hold them in memory; this is what a starting instance loads.
/// </summary>
public sealed class CancelledEventStore(NpgsqlDataSource db) : ICanvasData, ICancelledMarks
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(1);

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync("delete from cancelled_events where canvas = @canvas", new { canvas }, cancellationToken);

    /// <summary>
    /// Marks the event; <see cref="CanvasGoneException"/> when the canvas was deleted or re-created since <paramref
    /// name="canvasIncarnation"/>.
    /// </summary>
    public async Task AddAsync(
        string canvas,
        long canvasIncarnation,
        string worker,
        Guid eventId,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition($"""
                with {FencedBatch.AliveCanvas("canvas", "canvasIncarnation")},
                marked as (
                    insert into cancelled_events (canvas, worker, event_id) select @canvas, @worker, @eventId from alive
                        on conflict do nothing)
                select exists (select 1 from alive)
                """, new { canvas, canvasIncarnation, worker, eventId }, cancellationToken: cancellationToken)))
            throw new CanvasGoneException(canvas);
    }

    public async Task<CancelledMarks> ReadAsync(DateTimeOffset? since, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var read = await connection.QueryMultipleAsync(new CommandDefinition(since is null
            ? """
              delete from cancelled_events where cancelled_at < now() - make_interval(secs => @seconds);
              select canvas, worker, event_id from cancelled_events;
              select now();
              """
            : """
              select canvas, worker, event_id from cancelled_events where cancelled_at >= @since;
              select now();
              """, new { seconds = KeepFor.TotalSeconds, since = since?.UtcDateTime }, cancellationToken:
            cancellationToken));
        var ids = (await read.ReadAsync<(string Canvas, string Worker, Guid Id)>()).AsList();
        return new CancelledMarks(ids, UnhandledStore.Utc(await read.ReadSingleAsync<DateTime>()));
    }

    /// <summary>
    /// When the event was un-enqueued, and from which worker; null if it was not (or longer ago than <see
    /// cref="KeepFor"/>).
    /// </summary>
    public async Task<(string Worker, DateTimeOffset CancelledAt)?> FindAsync(
        string canvas,
        Guid eventId,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Worker, DateTime CancelledAt)>(new CommandDefinition(
            "select worker, cancelled_at from cancelled_events where event_id = @eventId and canvas = @canvas",
            new { canvas, eventId }, cancellationToken: cancellationToken));
        return rows.Select(r => ((string, DateTimeOffset)?)(r.Worker, UnhandledStore.Utc(r.CancelledAt)))
            .FirstOrDefault();
    }
}
