using Dapper;
using Npgsql;

namespace Workq.Shared.Storage;

/// <summary>
/// Which worker instances are alive and which registry change each has applied, so that control can
/// answer a deploy, pause or settings change only once every live instance acts on it.
/// </summary>
public sealed class InstanceStore(NpgsqlDataSource db)
{
    /// <summary>An instance that has not been seen for this long is taken for dead and not waited for.</summary>
    public static readonly TimeSpan AliveFor = TimeSpan.FromSeconds(15);

    public async Task HeartbeatAsync(Guid instance, string kind, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into instances (id, kind) values (@instance, @kind) on conflict (id) do update set last_seen = now();
            delete from applied_changes a where not exists (select 1 from instances i where i.id = a.instance);
            delete from instances where last_seen < now() - interval '1 hour';
            """, new { instance, kind }, cancellationToken: cancellationToken));
    }

    public async Task LeaveAsync(Guid instance, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from applied_changes where instance = @instance; delete from instances where id = @instance;",
                new { instance }, cancellationToken: cancellationToken));
    }

    public async Task MarkAppliedAsync(
        Guid instance,
        IReadOnlyCollection<(string Canvas, string Worker, long Change)> applied,
        CancellationToken cancellationToken)
    {
        if (applied.Count == 0) return;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into applied_changes (instance, canvas, worker, change)
            select @instance, * from unnest(@canvases, @workers, @changes)
            on conflict (instance, canvas, worker) do update set change = greatest(applied_changes.change,
                excluded.change)
            """, new
        {
            instance,
            canvases = applied.Select(a => a.Canvas).ToArray(),
            workers = applied.Select(a => a.Worker).ToArray(),
            changes = applied.Select(a => a.Change).ToArray(),
        }, cancellationToken: cancellationToken));
    }

    /// <summary>How many live worker instances have not yet applied <paramref name="change"/> of the worker.</summary>
    public async Task<int> LaggingAsync(string canvas, string worker, long change, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition("""
            select count(*) from instances i
             where i.kind = 'worker' and i.last_seen > now() - make_interval(secs => @aliveSeconds)
               and not exists (select 1 from applied_changes a
                                where a.instance = i.id and a.canvas = @canvas and a.worker = @worker and a.change >=
                                    @change)
            """, new
        {
            canvas,
            worker,
            change,
            aliveSeconds = AliveFor
            .TotalSeconds
        }, cancellationToken: cancellationToken));
    }
}
