using Dapper;
using Npgsql;

namespace Workq.Shared.Storage;

/// <summary>
/// The fence between batch writes and deletion (docs/DESIGN.md "Deleting a canvas or a worker"). A batch opens a
/// transaction and takes the canvas (or worker) rows it writes for FOR SHARE, in one statement; it then writes only
/// what belongs to an incarnation that is alive. A deletion first marks the rows deleting, which waits for every such
/// transaction. So a write either commits before the mark, and the deletion that follows removes it, or it sees the
/// mark (or another incarnation) and writes nothing. An incarnation of 0 (an event from before incarnations existed)
/// stands for the one alive.
/// </summary>
public sealed class FencedBatch : IAsyncDisposable
{
    private readonly Dictionary<string, long> canvases;
    private readonly Dictionary<(string Canvas, string Worker), long> workers;

    private FencedBatch(NpgsqlConnection connection, NpgsqlTransaction transaction, Dictionary<string, long> canvases,
        Dictionary<(string Canvas, string Worker), long> workers)
    {
        Connection = connection;
        Transaction = transaction;
        this.canvases = canvases;
        this.workers = workers;
    }

    public NpgsqlConnection Connection { get; }
    public NpgsqlTransaction Transaction { get; }

    /// <summary>
    /// The same fence for a writer of one statement: a CTE <c>alive</c> holding the canvas named by the parameter
    /// <paramref name="canvas"/> FOR SHARE, one row when it is alive in the incarnation <paramref name="incarnation"/>
    /// (0: in any), none otherwise.
    /// </summary>
    public static string AliveCanvas(string canvas, string incarnation) =>
        $"alive as (select 1 from canvases where name = @{canvas} and not deleting and (@{incarnation} = 0 or " +
            $"incarnation = @{incarnation}) for share)";

    /// <summary>Opens a batch that holds these canvases, those alive, until it commits or is disposed.</summary>
    public static async Task<FencedBatch> CanvasesAsync(
        NpgsqlDataSource db,
        IEnumerable<string> names,
        CancellationToken cancellationToken)
    {
        var (connection, transaction) = await BeginAsync(db, cancellationToken);
        try
        {
            // In name order, so that two batches never wait for each other's rows the other way round.
            var alive = await connection.QueryAsync<(string Name, long Incarnation)>(new CommandDefinition("""
                select name, incarnation from canvases where name = any(@names) and not deleting order by name for share
                """, new
            {
                names = names.Distinct(StringComparer.Ordinal)
                .ToArray()
            }, transaction, cancellationToken: cancellationToken));
            return new FencedBatch(
                connection,
                transaction,
                alive.ToDictionary(c => c.Name, c => c.Incarnation, StringComparer.Ordinal),
                []);
        }
        catch
        {
            await DisposeAsync(connection, transaction);
            throw;
        }
    }

    /// <summary>
    /// Opens a batch that holds these workers, those alive, until it commits or is disposed. Held FOR KEY SHARE, not
    /// FOR SHARE: the batch updates their counters, and two transactions that both share a row and then update it wait
    /// for each other for good (a deadlock), while an update does not conflict with a key share; nor do flushes of the
    /// same workers wait for one another. Only the deletion's FOR UPDATE (the mark) conflicts with it.
    /// </summary>
    public static async Task<FencedBatch> WorkersAsync(
        NpgsqlDataSource db,
        IEnumerable<(string Canvas, string Worker)> keys,
        CancellationToken cancellationToken)
    {
        var distinct = keys.Distinct().ToList();
        var (connection, transaction) = await BeginAsync(db, cancellationToken);
        try
        {
            // A canvas being deleted marks its workers too: the worker rows are all a worker's batch needs to hold.
            var alive = await connection
                .QueryAsync<(string Canvas, string Name, long Incarnation)>(new CommandDefinition("""
                select w.canvas, w.name, w.incarnation from workers w join unnest(@canvases, @workers) as k(canvas,
                    name) on w.canvas = k.canvas and w.name = k.name
                 where not w.deleting order by w.canvas, w.name for key share of w
                """, new
                {
                    canvases = distinct.Select(k => k.Canvas).ToArray(),
                    workers = distinct.Select(k => k.Worker)
                .ToArray()
                }, transaction,
                    cancellationToken: cancellationToken));
            return new FencedBatch(connection, transaction, new Dictionary<string, long>(StringComparer.Ordinal),
                alive.ToDictionary(w => (w.Canvas, w.Name), w => w.Incarnation));
        }
        catch
        {
            await DisposeAsync(connection, transaction);
            throw;
        }
    }

    /// <summary>True when the canvas is alive in this incarnation (0: in any).</summary>
    public bool Admits(string canvas, long incarnation) =>
        canvases.TryGetValue(canvas, out var alive) && (incarnation == 0 || incarnation == alive);

    /// <summary>True when the worker is alive in this incarnation (0: in any).</summary>
    public bool Admits(string canvas, string worker, long incarnation) =>
        workers.TryGetValue((canvas, worker), out var alive) && (incarnation == 0 || incarnation == alive);

    public Task CommitAsync(CancellationToken cancellationToken) => Transaction.CommitAsync(cancellationToken);

    public ValueTask DisposeAsync() => DisposeAsync(Connection, Transaction);

    private static async Task<(NpgsqlConnection, NpgsqlTransaction)> BeginAsync(
        NpgsqlDataSource db,
        CancellationToken cancellationToken)
    {
        var connection = await db.OpenConnectionAsync(cancellationToken);
        try
        {
            return (connection, await connection.BeginTransactionAsync(cancellationToken));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async ValueTask DisposeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
