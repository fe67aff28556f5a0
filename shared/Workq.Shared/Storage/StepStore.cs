using Dapper;
using Npgsql;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

/// <summary>
/// Durable handlers' state (API.md "Durable handlers", docs/DESIGN.md): each event's finished steps and its sleeps' and
/// waits' ends (<c>event_steps</c>, a row per key, the first write of a key wins), the signals sent before a wait began
/// (<c>event_signals</c>, kept 24 h), and a suspended event's resume: a row of <c>scheduled_events</c> marked
/// <c>sleeping</c> or <c>waiting</c>, which the dispatchers' pump publishes at its time as it publishes a delayed emit.
/// </summary>
public sealed partial class StepStore(NpgsqlDataSource db) : ICanvasData
{
    /// <summary>
    /// Durable operations of one process at once. A burst (10,000 events falling asleep) otherwise opens a connection
    /// per run in flight, which the pool keeps for minutes: PostgreSQL's connection slots, shared with every other
    /// service, run out.
    /// </summary>
    private const int MaxConcurrent = 12;

    private readonly SemaphoreSlim slots = new(MaxConcurrent, MaxConcurrent);

    /// <summary>How long a signal sent ahead of its wait is kept.</summary>
    public static readonly TimeSpan EarlySignalLife = TimeSpan.FromHours(24);

    /// <summary>Signals kept ahead per event: a run reads them all at once, in one frame.</summary>
    public const int MaxEarlySignals = 16;

    public async Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken)
    {
        await db.ExecuteAsync("delete from event_steps where canvas = @canvas", new { canvas }, cancellationToken);
        await db.ExecuteAsync("delete from event_signals where canvas = @canvas", new { canvas }, cancellationToken);
    }

    /// <summary>What the event's earlier runs kept, and the signals sent ahead of a wait: one round trip.</summary>
    public async Task<StepState> LoadAsync(string canvas, Guid eventId, CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken);
        using var slot = new Slot(slots);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var read = await connection.QueryMultipleAsync(new CommandDefinition("""
            select key, value from event_steps
             where canvas = @canvas and event_id = @eventId and key not like 'resume#%';
            select name, value from event_signals where canvas = @canvas and event_id = @eventId and sent_at > @since
             order by sent_at limit @maxSignals;
            """, new { canvas, eventId, since = DateTime.UtcNow - EarlySignalLife, maxSignals = MaxEarlySignals },
            cancellationToken: cancellationToken));
        var steps = (await read.ReadAsync<(string Key, byte[] Value)>()).ToDictionary(r => r.Key, r => r.Value);
        var signals = (await read.ReadAsync<(string Name, byte[] Value)>()).ToDictionary(r => r.Name, r => r.Value);
        return steps.Count == 0 && signals.Count == 0 ? StepState.Empty : new StepState(steps, signals);
    }

    /// <summary>
    /// True when the run <paramref name="envelope"/> carries has suspended (its suspension's mark is kept): a
    /// redelivery of that run (its ack lost to a kill after the suspension was stored) is stale, and the event goes on
    /// from its resume, whether or not that was published yet, rather than twice at once.
    /// </summary>
    public async Task<bool> SupersededAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken);
        using var slot = new Slot(slots);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
            select exists (select 1 from event_steps where canvas = @canvas and event_id = @eventId and key = @mark)
            """, new { eventId = envelope.Id, canvas = envelope.Canvas, mark = ResumeMark(envelope.Resume + 1) },
            cancellationToken: cancellationToken));
    }

    /// <summary>
    /// The key marking that a run suspended towards resume <paramref name="resume"/>: kept with its steps, but neither
    /// counted in their limits nor read into a run (the queries leave out <c>resume#%</c>; no step's key starts so).
    /// </summary>
    private static string ResumeMark(int resume) => $"resume#{resume}";

    /// <summary>
    /// Keeps <paramref name="json"/> under <paramref name="key"/> unless a value is kept there already, consuming the
    /// early <paramref name="signal"/> it came from. Null when it was kept; the value kept first otherwise. Past the
    /// limits (<see cref="StepLimits"/>) it throws <see cref="InvalidOperationException"/> naming the limit; a canvas
    /// deleted since keeps nothing.
    /// </summary>
    public async Task<byte[]?> SaveAsync(
        string canvas,
        long canvasIncarnation,
        Guid eventId,
        string key,
        ReadOnlyMemory<byte> json,
        string? signal,
        CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken);
        using var slot = new Slot(slots);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var value = json.ToArray();
        var row = await connection.QuerySingleAsync<(bool Inserted, byte[]? Existing, long Steps, long Bytes,
            bool Alive)>(new CommandDefinition($"""
            with {FencedBatch.AliveCanvas("canvas", "canvasIncarnation")},
            consumed as (
                delete from event_signals
                 where @signal::text is not null and canvas = @canvas and event_id = @eventId and name = @signal
                returning 1),
            totals as (
                select count(*) as steps, coalesce(sum(length(value)), 0) as bytes
                  from event_steps where canvas = @canvas and event_id = @eventId and key not like 'resume#%'),
            inserted as (
                insert into event_steps (canvas, event_id, key, value)
                select @canvas, @eventId, @key, @value
                 where exists (select 1 from alive)
                   and (select steps from totals) < @maxSteps
                   and (select bytes from totals) + length(@value) <= @maxBytes
                on conflict do nothing
                returning 1)
            select exists (select 1 from inserted),
                   (select value from event_steps where canvas = @canvas and event_id = @eventId and key = @key),
                   (select steps from totals), (select bytes from totals), exists (select 1 from alive)
              from (select count(*) from consumed) c
            """, new
            {
                canvas,
                canvasIncarnation,
                eventId,
                key,
                value,
                signal,
                maxSteps = StepLimits.MaxSteps,
                maxBytes = (long)StepLimits.MaxStateBytes,
            }, cancellationToken: cancellationToken));
        if (row.Inserted || !row.Alive) return null;
        if (row.Existing is { } first) return first;
        if (row.Steps >= StepLimits.MaxSteps)
            throw new InvalidOperationException(
                $"Step refused: event {eventId} already keeps {StepLimits.MaxSteps} steps, sleeps and waits, the " +
                "limit.");
        if (row.Bytes + value.Length > StepLimits.MaxStateBytes)
            throw new InvalidOperationException(
                $"Step refused: event {eventId} would keep more than {StepLimits.MaxStateBytes} bytes of step " +
                "results, the limit.");
        // Another run kept the key as this one tried (its row was not in this statement's snapshot): read it.
        return await connection.QuerySingleAsync<byte[]>(new CommandDefinition(
            "select value from event_steps where canvas = @canvas and event_id = @eventId and key = @key",
            new { canvas, eventId, key }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Sends the signal <paramref name="name"/> to an event of the canvas (API.md "Waits for a signal"): a wait for it
    /// takes it and the event is due at once; an event not waiting yet keeps it for its next wait of that name, unless
    /// <paramref name="final"/>. Waiting for another name, or final: not delivered.
    /// </summary>
    public async Task<SignalOutcome> SignalAsync(
        string canvas,
        long canvasIncarnation,
        Guid eventId,
        string name,
        ReadOnlyMemory<byte> json,
        bool final,
        CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken);
        using var slot = new Slot(slots);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await AliveAsync(connection, transaction, canvas, canvasIncarnation, cancellationToken))
            return new SignalOutcome(SignalState.NotWaiting, null);
        var value = json.ToArray();
        // The pump publishing the resume holds its row: this waits, then finds the event no longer waiting.
        var waiting = await connection.QuerySingleOrDefaultAsync<(string? Suspended, string? WaitName,
            string? WaitKey)?>(new CommandDefinition("""
            select suspended, wait_name, wait_key from scheduled_events
             where event_id = @eventId and canvas = @canvas for update
            """, new { canvas, eventId }, transaction, cancellationToken: cancellationToken));
        SignalOutcome outcome;
        if (waiting is { Suspended: "waiting" } wait)
        {
            if (wait.WaitName != name) return new SignalOutcome(SignalState.NotWaiting, wait.WaitName);
            var taken = await connection.ExecuteAsync(new CommandDefinition($"""
                insert into event_steps (canvas, event_id, key, value) values (@canvas, @eventId, @key, @value)
                    on conflict do nothing;
                """, new { canvas, eventId, key = wait.WaitKey, value }, transaction,
                cancellationToken: cancellationToken));
            if (taken == 0) return new SignalOutcome(SignalState.AlreadySignalled, name);
            await connection.ExecuteAsync(new CommandDefinition($"""
                update scheduled_events set run_at = now() where event_id = @eventId;
                select pg_notify('{ScheduledEventStore.Channel}', '');
                """, new { eventId }, transaction, cancellationToken: cancellationToken));
            outcome = new SignalOutcome(SignalState.Resumed, name);
        }
        else if (final) return new SignalOutcome(SignalState.NotWaiting, null);
        else
        {
            var kept = await connection.ExecuteAsync(new CommandDefinition("""
                insert into event_signals (canvas, event_id, name, value) values (@canvas, @eventId, @name, @value)
                    on conflict (canvas, event_id, name) do update set value = excluded.value, sent_at = now()
                 where event_signals.sent_at <= @expired
                """, new { canvas, eventId, name, value, expired = DateTime.UtcNow - EarlySignalLife }, transaction,
                cancellationToken: cancellationToken));
            outcome = new SignalOutcome(kept == 0 ? SignalState.AlreadySignalled : SignalState.Kept, name);
        }
        await transaction.CommitAsync(cancellationToken);
        return outcome;
    }

    /// <summary>
    /// Holds the canvas for the transaction when it is alive in <paramref name="incarnation"/> (0: in any), as
    /// <see cref="FencedBatch"/> does: a deletion waits for it, and a canvas deleted or re-created since writes
    /// nothing.
    /// </summary>
    private static async Task<bool> AliveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        string canvas, long incarnation, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<int?>(new CommandDefinition($"""
            with {FencedBatch.AliveCanvas("canvas", "incarnation")} select 1 from alive
            """, new { canvas, incarnation }, transaction, cancellationToken: cancellationToken)) is not null;

    /// <summary>
    /// The state of events not written for <paramref name="retention"/> and not sleeping or waiting, and the signals
    /// kept past their life; how many rows went.
    /// </summary>
    public async Task<int> PruneAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            delete from event_steps t
             where t.written_at < @before
               and not exists (select 1 from scheduled_events s where s.event_id = t.event_id);
            delete from event_signals where sent_at < @expired;
            """, new { before = DateTime.UtcNow - retention, expired = DateTime.UtcNow - EarlySignalLife },
            cancellationToken: cancellationToken));
    }

    /// <summary>Gives the slot back when the operation's scope ends.</summary>
    private readonly struct Slot(SemaphoreSlim slots) : IDisposable
    {
        public void Dispose() => slots.Release();
    }
}
