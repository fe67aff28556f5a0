using Dapper;
using Npgsql;

namespace Workq.Shared.Storage;

/// <summary>Canvases and their token hashes (the token itself is never stored).</summary>
public sealed class CanvasStore(NpgsqlDataSource db)
{
    /// <summary>
    /// Creates the canvas, a new incarnation, and runs <paramref name="declare"/> (its exchange) before the row
    /// commits: a deletion of the name cannot come between, so nothing declared here outlives a canvas deleted at that
    /// moment.
    /// </summary>
    /// <returns>false when a canvas of that name exists already (or is still being deleted).</returns>
    public async Task<bool> CreateAsync(
        string name,
        string tokenHash,
        Func<CancellationToken, Task> declare,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var rows = await connection.ExecuteAsync(new CommandDefinition(
            "insert into canvases (name, token_hash) values (@name, @tokenHash) on conflict (name) do nothing",
            new { name, tokenHash }, transaction, cancellationToken: cancellationToken));
        if (rows == 0) return false;
        await declare(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<CanvasSummary>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Name, long Workers)>(new CommandDefinition(
            "select c.name, count(w.name) from canvases c left join workers w on w.canvas = c.name where not " +
                "c.deleting group by c.name order by c.name",
            cancellationToken: cancellationToken));
        return rows.Select(r => new CanvasSummary(r.Name, (int)r.Workers)).ToList();
    }

    /// <summary>
    /// Every canvas with its token hash and incarnation, for the caches that authorize without a query per request.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, CanvasEntry>> TokenHashesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Name, string TokenHash, long Incarnation)>(new CommandDefinition(
            "select name, token_hash, incarnation from canvases where not deleting",
                cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Name, r => new CanvasEntry(r.TokenHash, r.Incarnation), StringComparer.Ordinal);
    }

    /// <summary>
    /// Runs <paramref name="action"/> (a declaration on the broker) while the canvas is held FOR SHARE, so that it
    /// cannot start being deleted meanwhile; false, without running it, when the canvas is not alive.
    /// </summary>
    public async Task<bool> WhileAliveAsync(
        string name,
        Func<CancellationToken, Task> action,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select exists (select 1 from canvases where name = @name and not deleting for share)", new { name },
                    transaction, cancellationToken: cancellationToken)))
            return false;
        await action(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// The first step of a deletion: marks the canvas and its workers deleting (a mark already there is kept, so a
    /// repeated DELETE finishes what a failed one began). Waits for the batches holding them (<see
    /// cref="FencedBatch"/>); from here on nothing is written or declared for them. Returns the canvas's workers and
    /// their ordering lanes and priority queues, or null when there is no such canvas.
    /// </summary>
    public async Task<IReadOnlyList<(string Worker, int Lanes, bool Priorities)>?> MarkDeletingAsync(
        string name,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // FOR UPDATE first: the one lock that every fence's lock (FOR SHARE, FOR KEY SHARE) waits for and makes wait.
        if (await connection.ExecuteAsync(new CommandDefinition("""
                with locked as (select name from canvases where name = @name for update)
                update canvases c set deleting = true from locked where c.name = locked.name
                """, new { name }, transaction, cancellationToken: cancellationToken)) == 0)
            return null;
        var workers = await connection.QueryAsync<(string Worker, int Lanes, bool Priorities)>(new CommandDefinition("""
            with locked as (select canvas, name from workers where canvas = @name order by name for update)
            update workers w set deleting = true from locked l where w.canvas = l.canvas and w.name = l.name returning
                w.name, w.ordering_lanes, w.priority_queues
            """, new { name }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return workers.AsList();
    }

    /// <summary>
    /// The last step of a deletion: deletes the canvas row, its token and (by the schema's cascade) its workers; the
    /// other stores' rows and the queues are deleted before (control's CanvasDeletion). Returns false when there was no
    /// such canvas any more.
    /// </summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "delete from canvases where name = @name and deleting", new { name },
                cancellationToken: cancellationToken)) > 0;
    }
}
