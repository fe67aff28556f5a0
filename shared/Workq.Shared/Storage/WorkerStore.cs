using System.Text.Json;
using Dapper;
using Npgsql;
using Workq.Shared.Handlers;

namespace Workq.Shared.Storage;

/// <summary>The worker registry: code, version, state, settings and the counters since creation.</summary>
public sealed class WorkerStore(NpgsqlDataSource db)
{
    private const string Columns = "canvas, name, version, code, state, blocked_reason, state_under_block, " +
        "concurrency, retry::text as retry, processed, failed, dead_lettered, change, " +
        "rate_limit::text as rate_limit, ordering_lanes, priority_queues, incarnation, " +
        "(select c.incarnation from canvases c where c.name = canvas) as canvas_incarnation";
    // A new or removed limit starts from a full bucket: slots granted under the old one must not hold up the new one.
    private const string ResetRateBucket = "reset as (delete from worker_rate_buckets where canvas = @canvas and " +
        "worker = @name and (@rateLimit::jsonb is not null or @clearRateLimit))";
    private const string SetRateLimit
        = "case when @clearRateLimit then null else coalesce(@rateLimit::jsonb, {0}rate_limit) end";
    private const string NextChange = "change = nextval('worker_changes')";

    /// <summary>
    /// Holds the worker's name until the hold commits or is disposed: the canvas (of <paramref
    /// name="canvasIncarnation"/>, 0: the one alive) FOR SHARE, so it cannot start being deleted, and the worker's name
    /// under a lock that deploys, the declaration of its lanes and its deletion take. What is declared on the broker
    /// while holding it therefore never outlives the worker. Throws <see cref="CanvasGoneException"/> when the canvas
    /// is not alive (in that incarnation).
    /// </summary>
    public async Task<WorkerHold> HoldAsync(
        string canvas,
        long canvasIncarnation,
        string name,
        CancellationToken cancellationToken)
    {
        var connection = await db.OpenConnectionAsync(cancellationToken);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(cancellationToken);
            using var reads = await connection.QueryMultipleAsync(new CommandDefinition($"""
                select pg_advisory_xact_lock(hashtextextended('workq.worker/' || @canvas || '/' || @name, 0));
                select incarnation from canvases where name = @canvas and not deleting and (@canvasIncarnation = 0 or
                    incarnation = @canvasIncarnation) for share;
                select {Columns}, deleting from workers where canvas = @canvas and name = @name;
                """, new { canvas, name, canvasIncarnation }, transaction, cancellationToken: cancellationToken));
            await reads.ReadAsync();
            var alive = await reads.ReadSingleOrDefaultAsync<long?>() ?? throw new CanvasGoneException(canvas);
            var row = await reads.ReadSingleOrDefaultAsync<Row>();
            return new WorkerHold(
                connection,
                transaction,
                canvas,
                name,
                alive,
                row is { Deleting: false } ? row.ToRecord() : null,
                row is { Deleting: true });
        }
        catch
        {
            if (transaction is not null) await transaction.DisposeAsync();
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The compiled handler of one version, or null when it was not compiled (a worker deployed before assemblies were
    /// stored).
    /// </summary>
    public async Task<byte[]?> GetAssemblyAsync(
        string canvas,
        string name,
        int version,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<byte[]>(new CommandDefinition(
            "select assembly from worker_assemblies where canvas = @canvas and name = @name and version = @version",
            new { canvas, name, version }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Workers whose current version has no compiled assembly yet: deployed by a release that did not store them.
    /// </summary>
    public async Task<IReadOnlyList<WorkerRecord>> ListUncompiledAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition($"""
            select {Columns} from workers w
             where not w.deleting and not exists (select 1 from worker_assemblies a where a.canvas = w.canvas and a.name
                 = w.name and a.version = w.version)
            """, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>
    /// Stores the assembly of a version that is still current, and announces nothing: the caller publishes the change.
    /// </summary>
    public async Task<bool> SaveAssemblyAsync(
        string canvas,
        string name,
        int version,
        byte[] assembly,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
            "select version from workers where canvas = @canvas and name = @name and not deleting for update",
                new { canvas, name }, transaction, cancellationToken: cancellationToken));
        if (current != version) return false;
        await SaveAssemblyAsync(connection, transaction, canvas, name, version, assembly, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    // Older versions' assemblies go: instances still running one keep it loaded, and nothing loads it again.
    private static Task SaveAssemblyAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        string canvas,
        string name,
        int version,
        byte[] assembly,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("""
            insert into worker_assemblies (canvas, name, version, assembly) values (@canvas, @name, @version, @assembly)
            on conflict (canvas, name, version) do update set assembly = excluded.assembly;
            delete from worker_assemblies where canvas = @canvas and name = @name and version < @version;
            """, new { canvas, name, version, assembly }, transaction, cancellationToken: cancellationToken));

    public async Task<WorkerRecord?> GetAsync(string canvas, string name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns} from workers where canvas = @canvas and name = @name and not deleting",
            new { canvas, name },
            cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<WorkerRecord>> ListAsync(string? canvas, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} from workers where (@canvas::text is null or canvas = @canvas) and not deleting order " +
                $"by canvas, name",
            new { canvas }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>
    /// The first step of a worker's deletion (control's WorkerDeletion, which holds the name): marks the worker
    /// deleting (a mark already there is kept, so a repeated DELETE finishes a failed one). Waits for the batches
    /// holding it (<see cref="FencedBatch"/>); from here on nothing is written for it. Returns its ordering lanes and
    /// whether it has priority queues, or null when there is no such worker.
    /// </summary>
    public async Task<(int Lanes, bool Priorities)?> MarkDeletingAsync(
        string canvas,
        string name,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // FOR UPDATE first: the one lock that a run flush's FOR KEY SHARE waits for and makes wait (see
        // FencedBatch.WorkersAsync).
        return await connection.QuerySingleOrDefaultAsync<(int Lanes, bool Priorities)?>(new CommandDefinition("""
            with locked as (select canvas, name from workers where canvas = @canvas and name = @name for update)
            update workers w set deleting = true from locked l where w.canvas = l.canvas and w.name = l.name returning
                w.ordering_lanes, w.priority_queues
            """, new { canvas, name }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// The last step of a worker's deletion: deletes the registry row (and, by the schema's cascade, its compiled
    /// assemblies); the other stores' rows and its queues are deleted before (control's WorkerDeletion). Returns false
    /// when there was no such worker any more.
    /// </summary>
    public async Task<bool> DeleteAsync(string canvas, string name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "delete from workers where canvas = @canvas and name = @name and deleting", new { canvas, name },
                cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>Changes settings only; a null argument leaves that setting as it is.</summary>
    public async Task<WorkerRecord?> UpdateSettingsAsync(
        string canvas,
        string name,
        WorkerSettings settings,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            with {ResetRateBucket}
            update workers set concurrency = coalesce(@concurrency, concurrency),
                   retry = case when @clearRetry then null else coalesce(@retry::jsonb, retry) end,
                   rate_limit = {string.Format(SetRateLimit, "")},
                   updated_at = now(), {NextChange}
             where canvas = @canvas and name = @name and not deleting
            returning {Columns}
            """, new
        {
            canvas,
            name,
            concurrency = settings.Concurrency,
            retry = settings.RetryJson,
            clearRetry = settings.ClearRetry,
            rateLimit = settings.RateLimitJson,
            clearRateLimit = settings.ClearRateLimit,
        },
            cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    // The worker's state machine, in one place. Each transition is one statement that decides from the current row, so
    // concurrent calls cannot interleave. A block remembers the state under it, and an unblock returns to that state;
    // pause and resume under a block change only that remembered state (resume: not even that, control answers 409).

    /// <summary>running → paused; under a block, paused is what the unblock returns to.</summary>
    public Task<WorkerRecord?> PauseAsync(
        string canvas,
        string name,
        CancellationToken cancellationToken) => TransitionAsync(canvas, name,
        $"state = case when state = '{WorkerStates.Blocked}' then state else '{WorkerStates.Paused}' end, " +
        $"state_under_block = case when state = '{WorkerStates.Blocked}' then '{WorkerStates.Paused}' else " +
            $"state_under_block end", null, cancellationToken);

    /// <summary>paused → running; a blocked worker stays blocked.</summary>
    public Task<WorkerRecord?> ResumeAsync(
        string canvas,
        string name,
        CancellationToken cancellationToken) => TransitionAsync(canvas, name,
        $"state = case when state = '{WorkerStates.Blocked}' then state else '{WorkerStates.Running}' end", null,
            cancellationToken);

    /// <summary>
    /// any → blocked, with a reason; the state it was in is kept for the unblock. Only that incarnation of the worker
    /// (0: the one alive).
    /// </summary>
    public Task<WorkerRecord?> BlockAsync(
        string canvas,
        string name,
        string reason,
        CancellationToken cancellationToken,
        long incarnation = 0) => TransitionAsync(canvas, name,
        $"state_under_block = case when state = '{WorkerStates.Blocked}' then state_under_block else state end, " +
        $"state = '{WorkerStates.Blocked}', blocked_reason = @reason",
        new { reason = TenantText.Store(reason) }, cancellationToken, incarnation);

    /// <summary>blocked → the state it was blocked in (running when unknown).</summary>
    public Task<WorkerRecord?> UnblockAsync(
        string canvas,
        string name,
        CancellationToken cancellationToken) => TransitionAsync(canvas, name,
        $"state = case when state = '{WorkerStates.Blocked}' then coalesce(state_under_block, " +
            $"'{WorkerStates.Running}') else state end, " +
        "blocked_reason = null, state_under_block = null", null, cancellationToken);

    private async Task<WorkerRecord?> TransitionAsync(
        string canvas,
        string name,
        string setSql,
        object? parameters,
        CancellationToken cancellationToken,
        long incarnation = 0)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var args = new DynamicParameters(parameters);
        args.Add("canvas", canvas);
        args.Add("name", name);
        args.Add("incarnation", incarnation);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            update workers set {setSql}, updated_at = now(), {NextChange}
             where canvas = @canvas and name = @name and not deleting and (@incarnation = 0 or incarnation =
                 @incarnation)
            returning {Columns}
            """, args, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <summary>
    /// Adds counter deltas for many workers in one round trip, in a batch that holds them (the caller keeps only those
    /// it admits).
    /// </summary>
    public static async Task AddCountsAsync(
        FencedBatch batch,
        IReadOnlyCollection<WorkerCounts> deltas,
        CancellationToken cancellationToken)
    {
        if (deltas.Count == 0) return;
        await batch.Connection.ExecuteAsync(new CommandDefinition("""
            update workers w
               set processed = w.processed + d.processed, failed = w.failed + d.failed
              from unnest(@canvases, @workers, @processed, @failed) as d(canvas, worker, processed, failed)
             where w.canvas = d.canvas and w.name = d.worker
            """, new
        {
            canvases = deltas.Select(d => d.Canvas).ToArray(),
            workers = deltas.Select(d => d.Worker).ToArray(),
            processed = deltas.Select(d => d.Processed).ToArray(),
            failed = deltas.Select(d => d.Failed).ToArray(),
        }, batch.Transaction, cancellationToken: cancellationToken));
    }

    private sealed class Row
    {
        public string Canvas { get; set; } = "";
        public string Name { get; set; } = "";
        public int Version { get; set; }
        public string Code { get; set; } = "";
        public string State { get; set; } = "";
        public string? Blocked_Reason { get; set; }
        public string? State_Under_Block { get; set; }
        public int Concurrency { get; set; }
        public string? Retry { get; set; }
        public long Processed { get; set; }
        public long Failed { get; set; }
        public long Dead_Lettered { get; set; }
        public long Change { get; set; }
        public string? Rate_Limit { get; set; }
        public int Ordering_Lanes { get; set; }
        public bool Priority_Queues { get; set; }
        public long Incarnation { get; set; }
        public long Canvas_Incarnation { get; set; }
        public bool Created { get; set; }
        public bool Deleting { get; set; }

        public WorkerRecord ToRecord() => new(
            Canvas,
            Name,
            Version,
            Code,
            State,
            Blocked_Reason,
            State_Under_Block,
            Concurrency,
            Retry is null ? null : JsonSerializer.Deserialize<RetryPolicy>(Retry, JsonDefaults.Web),
            Processed,
            Failed,
            Dead_Lettered,
            Change,
            Rate_Limit is null ? null : JsonSerializer.Deserialize<RateLimit>(
                Rate_Limit,
                JsonDefaults.Web),
            Ordering_Lanes,
            Incarnation,
            Canvas_Incarnation,
            Priority_Queues);
    }

    /// <summary>
    /// A worker's name held (<see cref="HoldAsync"/>): <see cref="Worker"/> is its row (null when there is none), <see
    /// cref="Deleting"/> true when a deletion of it began and has not finished. Writes through the hold commit with it.
    /// </summary>
    public sealed class WorkerHold(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        string canvas,
        string name,
        long canvasIncarnation,
        WorkerRecord? worker,
        bool deleting) : IAsyncDisposable
    {
        public WorkerRecord? Worker => worker;
        public bool Deleting => deleting;
        public long CanvasIncarnation => canvasIncarnation;

        /// <summary>
        /// Creates the worker (a new incarnation, version 1) or replaces its code (next version), with the version's
        /// compiled assembly.
        /// </summary>
        public async Task<(WorkerRecord Worker, bool Created)> PutAsync(
            string code,
            byte[] assembly,
            WorkerSettings settings,
            int defaultConcurrency,
            CancellationToken cancellationToken)
        {
            var row = await connection.QuerySingleAsync<Row>(new CommandDefinition($"""
                with {ResetRateBucket}
                insert into workers as w (canvas, name, version, code, concurrency, retry, rate_limit)
                values (@canvas, @name, 1, @code, coalesce(@concurrency, @defaultConcurrency), @retry::jsonb,
                    @rateLimit::jsonb)
                on conflict (canvas, name) do update
                   set version = w.version + 1, code = excluded.code,
                       concurrency = coalesce(@concurrency, w.concurrency),
                       retry = case when @clearRetry then null else coalesce(@retry::jsonb, w.retry) end,
                       rate_limit = {string.Format(SetRateLimit, "w.")},
                       updated_at = now(), {NextChange}
                returning {Columns}, (xmax = 0) as created
                """, new
            {
                canvas,
                name,
                code = TenantText.Store(code),
                concurrency = settings.Concurrency,
                defaultConcurrency,
                retry = settings.RetryJson,
                clearRetry = settings.ClearRetry,
                rateLimit = settings.RateLimitJson,
                clearRateLimit = settings.ClearRateLimit,
            },
                transaction, cancellationToken: cancellationToken));
            await SaveAssemblyAsync(connection, transaction, canvas, name, row.Version, assembly, cancellationToken);
            return (row.ToRecord(), row.Created);
        }

        /// <summary>
        /// Records that the worker has <paramref name="lanes"/> ordering lanes, unless it has some already (a worker's
        /// lanes never change, so a key keeps its lane). Not a change of the worker's settings: <c>change</c> stays.
        /// Returns the worker's lanes.
        /// </summary>
        public async Task<int> EnableOrderingLanesAsync(int lanes, CancellationToken cancellationToken) =>
            await connection.QuerySingleOrDefaultAsync<int?>(new CommandDefinition("""
                update workers set ordering_lanes = case when ordering_lanes = 0 then @lanes else ordering_lanes end
                 where canvas = @canvas and name = @name
                returning ordering_lanes
                """, new { canvas, name, lanes }, transaction, cancellationToken: cancellationToken)) ?? 0;

        /// <summary>
        /// Records that the worker has its high and low queues (for good, like lanes); not a change of its settings.
        /// Returns false when the worker is gone.
        /// </summary>
        public async Task<bool> EnablePriorityQueuesAsync(CancellationToken cancellationToken) =>
            await connection.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition("""
                update workers set priority_queues = true where canvas = @canvas and name = @name
                returning priority_queues
                """, new { canvas, name }, transaction, cancellationToken: cancellationToken)) ?? false;

        public Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
