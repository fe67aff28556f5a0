using Dapper;
using Npgsql;

namespace Workq.Shared.Storage;

/// <summary>
/// The embedded default trace store: the <c>traces</c> table, the JSON kept as written (a <c>json</c> column).
/// </summary>
public sealed class PostgresTraceStore(NpgsqlDataSource db) : ITraceStore
{
    public async Task AppendAsync(
        IReadOnlyCollection<TraceEntry> traces,
        int keepPerWorker,
        CancellationToken cancellationToken)
    {
        if (traces.Count == 0) return;
        var touched = traces.Select(t => (t.Canvas, t.Worker)).Distinct().ToArray();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into traces (canvas, worker, event_id, finished_at, body)
            select * from unnest(@canvases, @workers, @ids, @finishedAt, @bodies::json[]);

            delete from traces t
             using unnest(@touchedCanvases, @touchedWorkers) as k(canvas, worker)
             where t.canvas = k.canvas and t.worker = k.worker
               and t.seq not in (select seq from traces r where r.canvas = k.canvas and r.worker = k.worker
                                  order by finished_at desc, seq desc limit @keepPerWorker);
            """, new
        {
            canvases = traces.Select(t => t.Canvas).ToArray(),
            workers = traces.Select(t => t.Worker).ToArray(),
            ids = traces.Select(t => t.EventId).ToArray(),
            finishedAt = traces.Select(t => t.FinishedAt.UtcDateTime).ToArray(),
            bodies = traces.Select(t => t.Json).ToArray(),
            touchedCanvases = touched.Select(t => t.Canvas).ToArray(),
            touchedWorkers = touched.Select(t => t.Worker).ToArray(),
            keepPerWorker,
        }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<string>> ListAsync(
        string canvas,
        string worker,
        int limit,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<string>(new CommandDefinition("""
            select body::text from traces where canvas = @canvas and worker = @worker
             order by finished_at desc, seq desc limit @limit
            """, new { canvas, worker, limit }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task<IReadOnlyList<(string Worker, string Json)>> FindAsync(
        string canvas,
        Guid eventId,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Worker, string Json)>(new CommandDefinition("""
            select worker, body::text from traces where event_id = @eventId and canvas = @canvas
             order by finished_at desc, seq desc
            """, new { canvas, eventId }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync("delete from traces where canvas = @canvas", new { canvas }, cancellationToken);

    public Task DeleteWorkerAsync(string canvas, string worker, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "delete from traces where canvas = @canvas and worker = @worker",
            new { canvas, worker },
            cancellationToken);
}
