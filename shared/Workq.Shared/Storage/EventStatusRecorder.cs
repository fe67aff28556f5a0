using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Workq.Shared.Configuration;
using Workq.Shared.Hosting;
using Workq.Shared.Poison;

namespace Workq.Shared.Storage;

/// <summary>
/// Keeps event statuses off the hot path: a write only joins a lock-free queue (no lock, no hashing where events are
/// emitted and run), and a background loop a few times a second merges what came in with the pending write of the same
/// event (so an event that starts and finishes between two flushes is written once, finished) and writes them all in
/// one upsert. Nothing waits for it: not the 202, not the ack. A batch PostgreSQL refuses for a row's own reasons is
/// written in parts (<see cref="BatchSplitter"/>), so one bad status never holds up the others: it goes to the
/// quarantine.
/// </summary>
public sealed class EventStatusRecorder(
    EventStatusStore store,
    QuarantineStore quarantine,
    EventStatusOptions options,
    ILogger<EventStatusRecorder> logger)
    : PeriodicWriter(TimeSpan.FromMilliseconds(200))
{
    private readonly OutageLog outage = new(logger, "Writing event statuses");

    // Past this many unwritten statuses (PostgreSQL away for long), a failed batch is dropped rather than kept: memory
    // stays bounded.
    private const int MaxPending = 200_000;

    private readonly ConcurrentQueue<EventStatusUpdate> recorded = new();
    private readonly ConcurrentQueue<EmittedEvents> emitted = new();
    private readonly SemaphoreSlim flushing = new(1, 1);
    // Only under flushing: what a failed write left, merged into the next one.
    private Dictionary<(string Canvas, Guid Id), EventStatusUpdate> unwritten = [];
    private List<EmittedEvents> unwrittenEmits = [];
    private int lastBatch = 16;

    public void Record(EventStatusUpdate update)
    {
        if (options.Enabled) recorded.Enqueue(update);
    }

    /// <summary>
    /// The events of one emit request, queued: one record, and one row in the store, for all of them.
    /// </summary>
    public void RecordEmitted(EmittedEvents events)
    {
        if (options.Enabled && events.Ids.Length > 0) emitted.Enqueue(events);
    }

    private static void Merge(Dictionary<(string Canvas, Guid Id), EventStatusUpdate> pending, EventStatusUpdate update)
    {
        var key = (update.Canvas, update.Id);
        if (!pending.TryGetValue(key, out var old)) pending[key] = update;
        // A restart replaces the stored row; what follows it in the same flush keeps that, or it would not beat the
        // row.
        else if (update.Supersedes(old)) pending[key] = update.After(old) with
        {
            RestartedAt = update.RestartedAt
            ?? old.RestartedAt,
            Priority = update.Priority == Handlers.Messaging.Priority.Normal ? old.Priority : update.Priority,
        };
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        // The periodic flush and the last one at shutdown never interleave: each takes what the other left.
        await flushing.WaitAsync(CancellationToken.None);
        try
        {
            var batch = unwritten.Count > 0
                ? unwritten
                : new Dictionary<(string Canvas, Guid Id), EventStatusUpdate>(lastBatch);
            var emits = unwrittenEmits;
            unwritten = [];
            unwrittenEmits = [];
            // Oldest first, as recorded: a later write of an event is merged onto an earlier one.
            while (recorded.TryDequeue(out var update)) Merge(batch, update);
            while (emitted.TryDequeue(out var events)) emits.Add(events);
            if (batch.Count == 0 && emits.Count == 0) return;
            lastBatch = Math.Max(batch.Count, 16);
            try
            {
                await store.WriteAsync(batch.Values, emits, cancellationToken);
                outage.Succeeded();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: the last flush writes them.
                (unwritten, unwrittenEmits) = (batch, emits);
                throw;
            }
            catch (Exception e) when (!Failures.IsTransient(e))
            {
                await WriteInPartsAsync(batch, emits, cancellationToken);
            }
            catch (Exception e)
            {
                KeepForRetry(batch, emits, e);
            }
        }
        finally
        {
            flushing.Release();
        }
    }

    /// <summary>
    /// Only under flushing: the statuses and emits one by one where need be, the bad ones quarantined.
    /// </summary>
    private async Task WriteInPartsAsync(
        Dictionary<(string Canvas, Guid Id), EventStatusUpdate> batch,
        List<EmittedEvents> emits,
        CancellationToken cancellationToken)
    {
        var updates = await BatchSplitter.WriteAsync([.. batch.Values], (part, token) => store.WriteAsync(
            part,
            [],
            token),
            (update, error, token) =>
                QuarantineAsync(QuarantineEntry.Row(
                    QuarantineSources.EventStatus,
                    update,
                    error,
                    update.Canvas,
                    update.Worker,
                    update.Id), token),
            cancellationToken);
        var emitted = await BatchSplitter.WriteAsync(emits, (part, token) => store.WriteAsync([], part, token),
            (events, error, token) => QuarantineAsync(
                QuarantineEntry.Row(QuarantineSources.EventStatus, events, error, events.Canvas, null, null),
                token),
            cancellationToken);
        if ((updates.Outage ?? emitted.Outage) is not { } failed)
        {
            outage.Succeeded();
            return;
        }
        if (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the last flush writes them.
            (unwritten, unwrittenEmits) = (updates.Unwritten.ToDictionary(u => (u.Canvas, u.Id)), [.. emitted
                .Unwritten]);
            return;
        }
        KeepForRetry(updates.Unwritten.ToDictionary(u => (u.Canvas, u.Id)), [.. emitted.Unwritten], failed);
    }

    private async Task QuarantineAsync(QuarantineEntry entry, CancellationToken cancellationToken)
    {
        var id = await quarantine.AddAsync(entry, cancellationToken);
        logger.LogWarning(
            "An event status of {Canvas} that PostgreSQL refuses was quarantined as item {QuarantineId}: {Error}",
            entry.Canvas,
            id,
            entry.Error);
    }

    /// <summary>
    /// Only under flushing: an outage keeps what was not written for the next flush, up to <see cref="MaxPending"/>.
    /// </summary>
    private void KeepForRetry(
        Dictionary<(string Canvas, Guid Id), EventStatusUpdate> batch,
        List<EmittedEvents> emits,
        Exception e)
    {
        var count = batch.Count + emits.Sum(events => events.Ids.Length);
        if (count > MaxPending)
        {
            logger.LogError(
                "Could not write {Count} event statuses, and too many are waiting: these are dropped ({Error})",
                count,
                Failures.Describe(e));
            return;
        }
        outage.Failed(e);
        (unwritten, unwrittenEmits) = (batch, emits);
    }
}
