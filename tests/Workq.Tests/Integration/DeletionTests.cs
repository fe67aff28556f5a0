using Dapper;
using Npgsql;

namespace Workq.Tests.Integration;

/// <summary>
/// Each store deletes its own rows when a canvas or a worker goes (control's CanvasDeletion / WorkerDeletion), read
/// straight from PostgreSQL: nothing of the deleted one is left in any table, and nothing of another is touched.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DeletionTests(WorkqCluster cluster)
{
    // Instances' record of the registry changes they applied: theirs, dropped when an instance leaves (InstanceStore).
    private const string InstanceBookkeeping = "applied_changes";

    private NpgsqlConnection Connect() =>
        new(new NpgsqlConnectionStringBuilder(WorkqCluster.PostgresAdmin) { Database = cluster.Database }
            .ConnectionString);

    /// <summary>One row in every table that keeps rows per canvas, as the services would write them.</summary>
    private static Task SeedAsync(NpgsqlConnection db, string canvas, string worker) => db.ExecuteAsync("""
        insert into traces (canvas, worker, event_id, finished_at, body)
             values (@canvas, @worker, gen_random_uuid(), now(), '{}');
        insert into idempotency_keys (canvas, key, event_id, enqueued_at)
             values (@canvas, 'k-' || @worker, gen_random_uuid(), now());
        insert into unhandled_events (canvas, worker, event_id, enqueued_at, depth, body)
             values (@canvas, 'ghost', gen_random_uuid(), now(), 0, '\x31');
        insert into unhandled_dropped (canvas, worker, dropped) values (@canvas, 'ghost-' || @worker, 1);
        insert into dead_letters (canvas, worker, event_id, enqueued_at, depth, body, body_text, reason, attempts)
             values (@canvas, @worker, gen_random_uuid(), now(), 0, '\x31', '1', 'seeded', 6);
        insert into metrics_minute (canvas, worker, at, processed)
             values (@canvas, @worker, date_trunc('minute', now()) - interval '10 hours', 1);
        insert into metrics_hour (canvas, worker, at, processed, failed, timed_out, dead_lettered, emitted, queue_wait,
             duration)
             values (@canvas, @worker, date_trunc('hour', now()) - interval '10 hours', 1, 0, 0, 0, 0, '{}', '{}');
        insert into cancelled_events (canvas, worker, event_id) values (@canvas, @worker, gen_random_uuid());
        insert into scheduled_events (event_id, canvas, worker, enqueued_at, run_at, depth, body)
             values (gen_random_uuid(), @canvas, @worker, now(), now() + interval '10 days', 0, '\x31');
        insert into crons (canvas, name, schedule, worker, event, next_run)
             values (@canvas, 'n-' || @worker, '0 0 1 1 *', @worker, 'null', '2100-01-01Z');
        insert into cron_ticks (canvas, name, tick_time, event_id, claimed_at)
             values (@canvas, 'n-' || @worker, now(), gen_random_uuid(), now());
        insert into event_status (canvas, id, worker, status, rank, attempts, enqueued_at)
             values (@canvas, gen_random_uuid(), @worker, 'queued', 10, 1, now());
        insert into worker_rate_buckets (canvas, worker, next_slot) values (@canvas, @worker, 0);
        insert into event_emits (canvas, enqueued_at, ids, workers)
             values (@canvas, now(), array[gen_random_uuid()], array[@worker]);
        insert into event_priorities (canvas, id, priority) values (@canvas, gen_random_uuid(), 1);
        insert into event_finishes (canvas, id_second, ids, workers, statuses, attempts, enqueued_at, started_at,
                finished_at, results, errors)
             values (@canvas, date_trunc('second', now()), array[gen_random_uuid()], array[@worker],
                 array['completed'], array[1], array[now()], array[now()], array[now()], array['1'], array[null]);
        insert into quarantine (source, redrive, canvas, worker, body, properties, error, attempts, first_failed_at)
             values ('workq.dead-letters', 'publish', @canvas, @worker, '\x31', '{}', 'seeded', 3, now());
        -- A batch with a member and its end (a dispatcher's settler sets aside the ends of batches that do not exist).
        with b as (insert into batches (canvas, id) values (@canvas, gen_random_uuid()) returning id),
             m as (insert into batch_members (canvas, batch_id, ids, workers)
                   select @canvas, id, array[gen_random_uuid()], array[@worker] from b)
        insert into batch_finishes (canvas, batch_id, ids, statuses)
             select @canvas, id, array[gen_random_uuid()], array['completed'] from b;
        -- A durable event's kept step, and a signal sent ahead of its wait.
        insert into event_steps (canvas, event_id, key, value) values (@canvas, gen_random_uuid(), 'step:a#1', '\x31');
        insert into event_signals (canvas, event_id, name, value) values (@canvas, gen_random_uuid(), 'go', '\x31');
        -- A debounce key's row.
        insert into debounces (canvas, worker, debounce_key, event_id, enqueued_at, is_trailing, until_at, max_at,
                absorbed)
             values (@canvas, @worker, 'd', gen_random_uuid(), now(), true, now(), now(), 1);
        """, new { canvas, worker });

    /// <summary>
    /// Rows per table (every table with a canvas column, and the canvas row itself) that belong to the canvas, or to
    /// one worker of it.
    /// </summary>
    private static async Task<Dictionary<string, long>> RowsAsync(
        NpgsqlConnection db,
        string canvas,
        string? worker = null)
    {
        var tables = await db.QueryAsync<(string Table, bool HasWorker)>("""
            select c.table_name, exists (select 1 from information_schema.columns w
                                          where w.table_schema = c.table_schema and w.table_name = c.table_name
                                               and w.column_name = 'worker')
              from information_schema.columns c
             where c.table_schema = current_schema() and c.column_name = 'canvas' and c.table_name <> @skip
            """, new { skip = InstanceBookkeeping });
        var rows = new Dictionary<string, long>();
        foreach (var (table, hasWorker) in tables)
        {
            // The registry names its worker "name" (workers, worker_assemblies); every other table "worker".
            var workerColumn = table is "workers" or "worker_assemblies" ? "name" : hasWorker ? "worker" : null;
            if (worker is not null && workerColumn is null) continue;
            var where = worker is null ? "canvas = @canvas" : $"canvas = @canvas and {workerColumn} = @worker";
            rows[table] = await db.ExecuteScalarAsync<long>(
                $"select count(*) from {table} where {where}",
                new { canvas, worker });
        }
        if (worker is null) rows["canvases"] = await db.ExecuteScalarAsync<long>(
            "select count(*) from canvases where name = @canvas",
            new { canvas });
        return rows;
    }

    [Fact]
    public async Task Deleting_a_canvas_leaves_none_of_its_rows_in_any_table_and_another_canvas_untouched()
    {
        var (canvas, _) = await cluster.CreateCanvasAsync("del");
        var (neighbour, _) = await cluster.CreateCanvasAsync("keep");
        await cluster.DeployAsync(canvas, "w", "return 1;");
        await cluster.DeployAsync(neighbour, "w", "return 1;");
        await using var db = Connect();
        await db.OpenAsync();
        await SeedAsync(db, canvas, "w");
        await SeedAsync(db, neighbour, "w");

        var before = await RowsAsync(db, canvas);
        Assert.All(before, table => Assert.True(
            table.Value > 0,
            $"the test seeds no row in {table.Key}: seed it, so the delete is checked there"));
        var neighbourBefore = await RowsAsync(db, neighbour);

        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}"),
            cluster.AdminToken,
            expect: 204);

        Assert.All(
            await RowsAsync(db, canvas),
            table => Assert.True(table.Value == 0, $"{table.Value} row(s) of the deleted canvas left in {table.Key}"));
        Assert.Equal(neighbourBefore, await RowsAsync(db, neighbour));
        // A second delete finds no canvas: 404, as before.
        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}"),
            cluster.AdminToken,
            expect: 404);
    }

    [Fact]
    public async Task Deleting_a_worker_leaves_none_of_its_rows_and_its_siblings_untouched()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("delw");
        await cluster.DeployAsync(canvas, "gone", "return 1;", token: token);
        await cluster.DeployAsync(canvas, "stays", "return 1;", token: token);
        await using var db = Connect();
        await db.OpenAsync();
        await SeedAsync(db, canvas, "gone");
        await SeedAsync(db, canvas, "stays");
        var siblingBefore = await RowsAsync(db, canvas, "stays");

        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/gone"),
            token,
            expect: 204);

        var left = await RowsAsync(db, canvas, "gone");
        foreach (var table in new[] {
            "workers",
            "worker_assemblies",
            "traces",
            "dead_letters",
            "metrics_minute",
            "metrics_hour" })
            Assert.True(left[table] == 0, $"{left[table]} row(s) of the deleted worker left in {table}");
        Assert.Equal(siblingBefore, await RowsAsync(db, canvas, "stays"));
    }
}
