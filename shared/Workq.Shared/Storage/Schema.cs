using Dapper;
using Npgsql;

namespace Workq.Shared.Storage;

/// <summary>
/// Creates the tables every service relies on. Any service may start first, so each runs this under
/// an advisory lock; every statement is idempotent.
/// </summary>
public static class Schema
{
    private const long MigrationLock = 0x776F726B71; // "workq"

    private const string Ddl = """
        create table if not exists canvases (
            name text primary key,
            token_hash text not null unique,
            created_at timestamptz not null default now());

        create table if not exists workers (
            canvas text not null references canvases(name) on delete cascade,
            name text not null,
            version int not null,
            code text not null,
            state text not null default 'running',
            blocked_reason text,
            state_under_block text,
            concurrency int not null,
            retry jsonb,
            processed bigint not null default 0,
            failed bigint not null default 0,
            dead_lettered bigint not null default 0,
            created_at timestamptz not null default now(),
            updated_at timestamptz not null default now(),
            primary key (canvas, name));

        create table if not exists traces (
            seq bigserial primary key,
            canvas text not null,
            worker text not null,
            event_id uuid not null,
            finished_at timestamptz not null,
            body json not null);
        create index if not exists traces_by_worker on traces (canvas, worker, finished_at desc, seq desc);
        -- The event lookup finds an id in every store by these.
        create index if not exists traces_by_event on traces (event_id);

        create table if not exists idempotency_keys (
            canvas text not null,
            key text not null,
            event_id uuid not null,
            enqueued_at timestamptz not null,
            primary key (canvas, key));

        create table if not exists unhandled_events (
            seq bigserial primary key,
            canvas text not null,
            worker text not null,
            event_id uuid not null,
            enqueued_at timestamptz not null,
            depth int not null,
            trace_parent text,
            body bytea not null,
            received_at timestamptz not null default now());
        create index if not exists unhandled_by_worker on unhandled_events (canvas, worker, enqueued_at, seq);
        create index if not exists unhandled_by_event on unhandled_events (event_id);

        create table if not exists unhandled_dropped (
            canvas text not null,
            worker text not null,
            dropped bigint not null,
            primary key (canvas, worker));

        create table if not exists dead_letters (
            seq bigserial primary key,
            canvas text not null,
            worker text not null,
            event_id uuid not null,
            enqueued_at timestamptz not null,
            depth int not null,
            trace_parent text,
            body bytea not null,
            reason text not null,
            attempts int not null,
            dead_lettered_at timestamptz not null default now());
        create index if not exists dead_letters_by_worker on dead_letters (canvas, worker, seq);
        -- One row per event: a redelivered dead letter (an ack lost in a crash) must not be listed twice.
        delete from dead_letters a using dead_letters b
         where a.canvas = b.canvas and a.worker = b.worker and a.event_id = b.event_id and a.seq < b.seq;
        create unique index if not exists dead_letters_one_per_event on dead_letters (canvas, worker, event_id);
        create index if not exists dead_letters_by_event on dead_letters (event_id);
        -- Search: keyset pages newest first, and substring matches on the reason (which holds the error) or the
        -- payload. The payload is kept as text beside the bytes because converting bytea in an index is not immutable.
        alter table dead_letters add column if not exists body_text text;
        do $$
        declare r record;
        begin
            for r in select seq, body from dead_letters where body_text is null loop
                begin
                    update dead_letters set body_text = convert_from(r.body, 'UTF8') where seq = r.seq;
                exception when others then
                    -- Not UTF-8 (or holding NUL): searchable as escaped bytes rather than blocking the start.
                    update dead_letters set body_text = encode(r.body, 'escape') where seq = r.seq;
                end;
            end loop;
        end $$;
        create index if not exists dead_letters_by_time on dead_letters (canvas, worker, dead_lettered_at desc, event_id
            desc);
        -- Trigram indexes make q fast beyond one worker's 10,000 rows; without pg_trgm (not installed, or a role
        -- that may not create it) search still works, scanning the worker's rows by time.
        do $$
        begin
            create extension if not exists pg_trgm;
        exception when others then
            raise warning 'pg_trgm unavailable (%): dead-letter search runs without trigram indexes', sqlerrm;
        end $$;
        do $$
        begin
            if exists (select 1 from pg_extension where extname = 'pg_trgm') then
                create index if not exists dead_letters_reason_trgm on dead_letters using gin (reason gin_trgm_ops);
                create index if not exists dead_letters_body_trgm on dead_letters using gin (body_text gin_trgm_ops);
            end if;
        end $$;

        create sequence if not exists worker_changes;
        alter table workers add column if not exists change bigint not null default nextval('worker_changes');

        create table if not exists instances (
            id uuid primary key,
            kind text not null,
            started_at timestamptz not null default now(),
            last_seen timestamptz not null default now());

        create table if not exists applied_changes (
            instance uuid not null,
            canvas text not null,
            worker text not null,
            change bigint not null,
            primary key (instance, canvas, worker));

        -- The compiled handler of each worker's current version (control compiles at deploy; runners load these bytes).
        create table if not exists worker_assemblies (
            canvas text not null,
            name text not null,
            version int not null,
            assembly bytea not null,
            primary key (canvas, name, version),
            foreign key (canvas, name) references workers(canvas, name) on delete cascade);

        create table if not exists cancelled_events (
            canvas text not null,
            worker text not null,
            event_id uuid not null,
            cancelled_at timestamptz not null default now());
        -- Per canvas and worker, not per id alone: another canvas naming the same id must not take the mark's place.
        alter table cancelled_events drop constraint if exists cancelled_events_pkey;
        create unique index if not exists cancelled_events_by_worker on cancelled_events (canvas, worker, event_id);
        create index if not exists cancelled_events_by_event on cancelled_events (event_id);
        -- The worker instances' reloads read the marks made since their last (CancelledEvents).
        create index if not exists cancelled_events_by_time on cancelled_events (cancelled_at);

        -- Delayed emits until they are due (ScheduledEventStore); the dispatchers' pump publishes and deletes them.
        create table if not exists scheduled_events (
            event_id uuid primary key,
            canvas text not null,
            worker text not null,
            enqueued_at timestamptz not null,
            run_at timestamptz not null,
            depth int not null,
            trace_parent text,
            body bytea not null);
        create index if not exists scheduled_by_run_at on scheduled_events (run_at);
        create index if not exists scheduled_by_worker on scheduled_events (canvas, worker);

        create table if not exists crons (
            canvas text not null references canvases(name) on delete cascade,
            name text not null,
            schedule text not null,
            worker text not null,
            event json not null,
            created_at timestamptz not null default now(),
            updated_at timestamptz not null default now(),
            last_run timestamptz,
            next_run timestamptz not null,
            primary key (canvas, name));
        create index if not exists crons_by_next_run on crons (next_run);

        create table if not exists cron_ticks (
            canvas text not null,
            name text not null,
            tick_time timestamptz not null,
            event_id uuid not null,
            claimed_at timestamptz not null,
            published_at timestamptz,
            primary key (canvas, name, tick_time));

        -- Per-minute aggregates (MetricsStore): counts add, and each histogram is a fixed log-scale
        -- bucket array (LatencyHistogram) added element-wise, so rows merge across instances and flushes.
        create or replace function workq_add_buckets(a bigint[], b bigint[]) returns bigint[] language sql immutable as
            $$
            select coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) order by i), '{}')
              from unnest(a, b) with ordinality as t(x, y, i) $$;
        create or replace aggregate workq_sum_buckets(bigint[]) (sfunc = workq_add_buckets, stype = bigint[], initcond =
            '{}');
        create table if not exists metrics_minute (
            canvas text not null,
            worker text not null,
            at timestamptz not null,
            processed bigint not null default 0,
            failed bigint not null default 0,
            timed_out bigint not null default 0,
            dead_lettered bigint not null default 0,
            emitted bigint not null default 0,
            queue_wait bigint[] not null default '{}',
            duration bigint[] not null default '{}',
            primary key (canvas, worker, at));
        create index if not exists metrics_minute_by_time on metrics_minute (at);
        -- Filled from metrics_minute by the dispatcher's roll-up (MetricsRollup), kept longer.
        create table if not exists metrics_hour (
            canvas text not null,
            worker text not null,
            at timestamptz not null,
            processed bigint not null,
            failed bigint not null,
            timed_out bigint not null,
            dead_lettered bigint not null,
            emitted bigint not null,
            queue_wait bigint[] not null,
            duration bigint[] not null,
            primary key (canvas, worker, at));
        create index if not exists metrics_hour_by_time on metrics_hour (at);

        -- A worker's rate limit (API.md rateLimit), and the bucket every worker instance draws its grants from:
        -- next_slot is the epoch second of the next token to be granted (WorkerRateBuckets).
        alter table workers add column if not exists rate_limit jsonb;
        create table if not exists worker_rate_buckets (
            canvas text not null,
            worker text not null,
            next_slot double precision not null,
            primary key (canvas, worker),
            foreign key (canvas, worker) references workers(canvas, name) on delete cascade);

        -- Each event's latest status (EventStatusStore): rank orders the states so that late writes never move one
        -- backwards.
        create table if not exists event_status (
            canvas text collate "C" not null,
            id uuid not null,
            worker text not null,
            status text not null,
            rank smallint not null,
            attempts int not null,
            enqueued_at timestamptz not null,
            run_at timestamptz,
            started_at timestamptz,
            finished_at timestamptz,
            result json,
            error text,
            updated_at timestamptz not null default now(),
            primary key (canvas, id));
        -- Cheap to write: a run's later status replaces its row in place (a HOT update: room left on each page, and no
        -- index on a column that changes), and pruning finds old rows through a BRIN index on enqueued_at, which the
        -- rows arrive in. Canvas names are ASCII: compared byte by byte, not through the database's collation, on every
        -- step of every primary-key lookup (two or three per event). Tables made before this are converted once.
        do $$ begin
          if exists (select 1 from pg_attribute a join pg_collation c on c.oid = a.attcollation
                      where a.attrelid = 'event_status'::regclass and a.attname = 'canvas' and c.collname <> 'C') then
            alter table event_status alter column canvas type text collate "C";
          end if;
        end $$;
        drop index if exists event_status_by_time;
        create index if not exists event_status_by_enqueued on event_status using brin (enqueued_at);
        -- Most rows are written once (the emitter's queued lives in event_emits); room is kept for the runs written
        -- twice.
        alter table event_status set (fillfactor = 70);

        -- The emitter's queued (EventStatusStore): one row per emit request, not per event. The events of a request
        -- share their enqueued time, which their version-7 ids carry, so a lookup by id reads only its canvas's rows of
        -- that millisecond.
        create table if not exists event_emits (
            canvas text collate "C" not null,
            enqueued_at timestamptz not null,
            ids uuid[] not null,
            workers text[] not null);
        create index if not exists event_emits_by_canvas on event_emits (canvas, enqueued_at);
        create index if not exists event_emits_by_enqueued on event_emits using brin (enqueued_at);

        -- The worker's finished runs (EventStatusStore): one row per canvas, flush and second their ids were made in,
        -- not per event; a read finds an event's in its id's second and sets them against its event_status row. Pruned
        -- by when they were written. restarted_at: the redrive an event_status row is from, so that finished runs from
        -- before it are not taken for its end.
        create table if not exists event_finishes (
            canvas text collate "C" not null,
            id_second timestamptz not null,
            written_at timestamptz not null default now(),
            ids uuid[] not null,
            workers text[] not null,
            statuses text[] not null,
            attempts int[] not null,
            enqueued_at timestamptz[] not null,
            started_at timestamptz[] not null,
            finished_at timestamptz[] not null,
            results text[] not null,
            errors text[] not null);
        create index if not exists event_finishes_by_canvas on event_finishes (canvas, id_second);
        create index if not exists event_finishes_by_written on event_finishes using brin (written_at);
        alter table event_status add column if not exists restarted_at timestamptz;
        -- Their arrays are stored compressed, written once and seldom read: lz4 compresses for a fraction of the CPU of
        -- PostgreSQL's default (pglz was a quarter of the server's CPU under the bench's batch load). A server built
        -- without lz4 keeps pglz.
        do $$
        begin
            alter table event_finishes
                alter column ids set compression lz4, alter column workers set compression lz4,
                alter column statuses set compression lz4, alter column attempts set compression lz4,
                alter column enqueued_at set compression lz4, alter column started_at set compression lz4,
                alter column finished_at set compression lz4, alter column results set compression lz4,
                alter column errors set compression lz4;
            alter table event_emits alter column ids set compression lz4, alter column workers set compression lz4;
        exception when feature_not_supported then
            raise warning 'lz4 unavailable (%): event statuses are compressed with pglz', sqlerrm;
        end $$;

        -- Ordering keys (docs/DESIGN.md): a worker's lane queues (0 until its first keyed event), and the key of a
        -- delayed, parked or dead-lettered event, so it goes back to its lane.
        alter table workers add column if not exists ordering_lanes int not null default 0;
        alter table workers add column if not exists priority_queues boolean not null default false;
        alter table scheduled_events add column if not exists priority smallint not null default 0;
        alter table dead_letters add column if not exists priority smallint not null default 0;
        alter table unhandled_events add column if not exists priority smallint not null default 0;
        -- The priority of each high or low event (a normal one has no row), for its status: written with its first
        -- status, pruned with them.
        create table if not exists event_priorities (
            canvas text collate "C" not null,
            id uuid not null,
            priority smallint not null,
            written_at timestamptz not null default now(),
            primary key (canvas, id));
        alter table scheduled_events add column if not exists ordering_key text;
        -- Insert order: delayed events due at the same time are published in the order they were emitted.
        alter table scheduled_events add column if not exists seq bigserial;
        alter table unhandled_events add column if not exists ordering_key text;
        alter table dead_letters add column if not exists ordering_key text;

        -- Durable handlers (StepStore, docs/DESIGN.md "Durable handlers"): each event's finished steps and the ends of
        -- its sleeps and waits, a row per key (the first write wins); signals sent before their wait began; and a
        -- suspended event's resume, a scheduled_events row marked sleeping or waiting.
        create table if not exists event_steps (
            canvas text collate "C" not null,
            event_id uuid not null,
            key text not null,
            value bytea not null,
            written_at timestamptz not null default now(),
            primary key (canvas, event_id, key));
        create index if not exists event_steps_by_written on event_steps using brin (written_at);
        create table if not exists event_signals (
            canvas text collate "C" not null,
            event_id uuid not null,
            name text not null,
            value bytea not null,
            sent_at timestamptz not null default now(),
            primary key (canvas, event_id, name));
        alter table scheduled_events add column if not exists resume int not null default 0;
        alter table scheduled_events add column if not exists suspended text;
        alter table scheduled_events add column if not exists wait_name text;
        alter table scheduled_events add column if not exists wait_key text;

        -- The quarantine (QuarantineStore, docs/DESIGN.md "Quarantine"): messages an internal consumer gave up on,
        -- whole (the body's bytes, the properties and headers as binary-safe JSON), with where they came from and where
        -- a redrive puts them.
        create table if not exists quarantine (
            id bigserial primary key,
            source text not null,
            redrive text not null,
            queue text,
            exchange text,
            routing_key text,
            canvas text,
            worker text,
            event_id uuid,
            body bytea not null,
            properties jsonb not null,
            error text not null,
            attempts int not null,
            first_failed_at timestamptz not null,
            quarantined_at timestamptz not null default now());
        create index if not exists quarantine_by_source on quarantine (source, id);
        create index if not exists quarantine_by_canvas on quarantine (canvas, id);
        -- Incarnations (docs/DESIGN.md "Deleting a canvas or a worker"): a canvas or worker row gets a new one on every
        -- create (existing rows are numbered here once), and events, runs and batch writes carry it. Deletion first
        -- marks the row deleting, which waits for every write holding the row FOR SHARE; a write that comes later sees
        -- the mark and writes nothing.
        create sequence if not exists workq_incarnations;
        alter table canvases add column if not exists incarnation bigint not null default nextval('workq_incarnations');
        alter table canvases add column if not exists deleting boolean not null default false;
        alter table workers add column if not exists incarnation bigint not null default nextval('workq_incarnations');
        alter table workers add column if not exists deleting boolean not null default false;

        -- Batches (BatchStore, docs/DESIGN.md "Batches"): the batch row counts its members (total, from batch_members)
        -- and the final statuses reported for them (seen and the per-status counts, duplicates included, from
        -- batch_finishes); when a closed batch has seen as many as it holds, the exact count is taken from the two
        -- tables, and the row is finished, its callbacks stored as due scheduled events, in one transaction.
        create table if not exists batches (
            canvas text collate "C" not null,
            id uuid not null,
            depth int not null default 0,
            idempotency_key text,
            trace_parent text,
            total int not null default 0,
            seen int not null default 0,
            completed int not null default 0,
            failed int not null default 0,
            timed_out int not null default 0,
            cancelled int not null default 0,
            dead_lettered int not null default 0,
            on_complete_worker text,
            on_complete_event bytea,
            on_success_worker text,
            on_success_event bytea,
            created_at timestamptz not null default now(),
            closed_at timestamptz,
            cancelled_at timestamptz,
            finished_at timestamptz,
            primary key (canvas, id));
        create unique index if not exists batches_by_key on batches (canvas, idempotency_key)
            where idempotency_key is not null;
        create index if not exists batches_by_created on batches (canvas, created_at desc, id desc);
        create index if not exists batches_by_finished on batches (finished_at) where finished_at is not null;
        -- One row per request (or handler emit) that added events: the ids and their workers.
        create table if not exists batch_members (
            seq bigserial primary key,
            canvas text collate "C" not null,
            batch_id uuid not null,
            ids uuid[] not null,
            workers text[] not null);
        create index if not exists batch_members_by_batch on batch_members (batch_id);
        -- One row per batch and flush of final statuses, with the results and errors a callback reads: the first one
        -- recorded for an id is the one that counts.
        create table if not exists batch_finishes (
            seq bigserial primary key,
            canvas text collate "C" not null,
            batch_id uuid not null,
            ids uuid[] not null,
            statuses text[] not null);
        create index if not exists batch_finishes_by_batch on batch_finishes (batch_id, seq);
        alter table batch_finishes add column if not exists results text[];
        -- Counted into its batch by a dispatcher's settler (BatchStore.SettleAsync); the unfolded rows are its queue.
        alter table batch_finishes add column if not exists folded boolean not null default false;
        create index if not exists batch_finishes_unfolded on batch_finishes (canvas, batch_id) where not folded;
        -- The ids the request that created the batch added: what a create repeated with its key answers.
        alter table batch_members add column if not exists by_create boolean not null default false;
        alter table batch_finishes add column if not exists errors text[];
        alter table scheduled_events add column if not exists batch_id uuid;
        alter table scheduled_events add column if not exists callback_of uuid;

        -- Debounce (DebounceStore, docs/DESIGN.md "Debounce"): a key's current run (a trailing one is a
        -- scheduled_events row that each emit of the period moves and refills), its mode, the end of its period and the
        -- latest a trailing run may be held to, and the emits it absorbed.
        create table if not exists debounces (
            canvas text collate "C" not null,
            worker text collate "C" not null,
            debounce_key text collate "C" not null,
            event_id uuid not null,
            enqueued_at timestamptz not null,
            is_trailing boolean not null,
            until_at timestamptz not null,
            max_at timestamptz not null,
            absorbed int not null,
            primary key (canvas, worker, debounce_key));
        create index if not exists debounces_by_event on debounces (event_id);
        create index if not exists debounces_by_until on debounces using brin (until_at);
        alter table scheduled_events add column if not exists debounce_key text;
        alter table scheduled_events add column if not exists absorbed int not null default 0;
        """;

    /// <summary>The schema this build makes: what <c>workq_schema</c> records once it is in place.</summary>
    private static readonly string Version = Convert.ToHexString(
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Ddl)));

    /// <remarks>
    /// Only when the database's schema is not this build's: an <c>alter table ... if not exists</c> takes its table's
    /// exclusive lock even when it changes nothing, so running it at every start (each worker instance of a scale-out,
    /// each restart) queued behind live traffic and deadlocked with it (a pump's delete, a settler's update).
    /// </remarks>
    public static async Task EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await CurrentAsync(connection, null, cancellationToken)) return;
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "select pg_advisory_xact_lock(@MigrationLock)",
            new { MigrationLock },
            transaction,
            cancellationToken: cancellationToken));
        // Another service may have made it while this one waited for the lock.
        if (await CurrentAsync(connection, transaction, cancellationToken)) return;
        await connection.ExecuteAsync(
            new CommandDefinition(Ddl, transaction: transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            create table if not exists workq_schema (version text not null);
            delete from workq_schema;
            insert into workq_schema (version) values (@Version);
            """, new { Version }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<bool> CurrentAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select to_regclass('workq_schema') is not null", transaction: transaction,
            cancellationToken: cancellationToken))
        && await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select max(version) from workq_schema", transaction: transaction,
            cancellationToken: cancellationToken)) == Version;
}
