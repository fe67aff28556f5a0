using System.Diagnostics;
using Workq.Shared.Configuration;
using Workq.Shared.Handlers;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Emitter.Emitting;

/// <summary>
/// Enqueues events for the emit API as its <see cref="EmitPlan"/> says: claims idempotency keys (one round trip for a
/// whole batch, and only when keys were given), collapses the debounced ones into their keys' runs (a transaction
/// each), stores the delayed ones (one round trip, only when there are any), then
/// publishes every new immediate event at once and waits for all confirms. Everything is for the canvas
/// incarnation the caller was authorized for: its events carry it, and nothing is stored for it once it is deleted.
/// </summary>
public sealed class EventEmitter(IEmitEdges edges, TimeProvider time, EmitLimits options)
{
    public async Task<Emitted[]> EmitAsync(
        string canvas,
        long incarnation,
        IReadOnlyList<BatchItem> items,
        string? traceParent,
        CancellationToken cancellationToken,
        BatchTarget? batch = null)
    {
        var plan = EmitPlan.Create(items, time.GetUtcNow());
        var (results, publish, claims, enqueuedAt) = (plan.Results, plan.Publish, plan.Claims, plan.EnqueuedAt);
        if (claims.Count > 0)
            plan.Claimed(await edges.ClaimAsync(canvas, incarnation, claims, enqueuedAt, cancellationToken));

        // The request's span (itself a child of the caller's traceparent) is the parent of every event's publish.
        traceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } request
            ? request.Id!
            : traceParent ?? NewTraceParent();
        var delayed = new List<ScheduledEvent>();
        List<(string Worker, string Key, Guid Id)>? leading = null;
        for (var i = 0; i < items.Count; i++)
        {
            if (!publish[i] || items[i].Debounce is not { } debounce) continue;
            var envelope = Envelope(canvas, incarnation, items[i], results[i].Id, enqueuedAt, traceParent, batch);
            DebounceOutcome outcome;
            try
            {
                outcome = await edges.DebounceAsync(envelope, items[i].Event, debounce,
                    TenantText.Store(items[i].IdempotencyKey), options.MaxScheduledPerWorker, CancellationToken.None);
            }
            catch
            {
                await edges.ReleaseAsync(canvas, claims, CancellationToken.None);
                throw;
            }
            results[i] = new Emitted(outcome.Id, outcome.EnqueuedAt);
            if (outcome.RunAt is { } due)
                edges.RecordStatus(EventStatusUpdate.Scheduled(
                    envelope with { Id = outcome.Id, EnqueuedAt = outcome.EnqueuedAt }, due));
            // A leading run starts now: published below with the others, its key given back if that fails.
            publish[i] = outcome.Started && !debounce.Trailing;
            if (publish[i]) (leading ??= []).Add((items[i].Worker, debounce.Key, outcome.Id));
        }
        for (var i = 0; i < items.Count; i++)
        {
            if (!publish[i] || items[i].RunAt is not { } runAt) continue;
            delayed.Add(new ScheduledEvent(
                Envelope(canvas, incarnation, items[i], results[i].Id, enqueuedAt, traceParent, batch),
                runAt,
                items[i].Event));
            publish[i] = false;
        }
        try
        {
            // Before any publish, so a refused batch enqueues nothing; the commit is what makes the delayed events
            // durable.
            await edges.ScheduleAsync(
                canvas,
                incarnation,
                delayed,
                options.MaxScheduledPerWorker,
                CancellationToken.None);
        }
        catch
        {
            await edges.ReleaseAsync(canvas, claims, CancellationToken.None);
            throw;
        }
        foreach (var due in delayed)
            edges.RecordStatus(EventStatusUpdate.Scheduled(due.Envelope, due.RunAt));
        var events = new List<(EventEnvelope, ReadOnlyMemory<byte>)>(items.Count);
        for (var i = 0; i < items.Count; i++)
            if (publish[i]) events.Add(
                (Envelope(canvas, incarnation, items[i], results[i].Id, enqueuedAt, traceParent, batch),
                    items[i].Event));
        // Not the request's token: a publish on the wire may be enqueued whether or not we wait for its confirm, so a
        // client that hangs up must not leave a claimed key without its event. Each publish ends at its confirm or its
        // deadline.
        var pending = edges.PublishInOrder(events, CancellationToken.None);
        try
        {
            await Task.WhenAll(pending);
        }
        catch (Exception e) when (e is BrokerUnavailableException or QueueFullException)
        {
            var confirmed = RecordQueued(canvas, incarnation, enqueuedAt, items, results, publish, pending);
            if (batch is { } target) await AddToBatchAsync(canvas, target, delayed, confirmed);
            // The keys of events that may not have been enqueued are given back, so the client's retry enqueues them;
            // the keys of confirmed ones stay, so that retry does not enqueue those twice. pending follows the
            // published items' order.
            var failed = new HashSet<Guid>();
            for (int i = 0, p = 0; i < items.Count; i++)
                if (publish[i] && !pending[p++].IsCompletedSuccessfully) failed.Add(results[i].Id);
            await edges.ReleaseAsync(canvas, claims.FindAll(c => failed.Contains(c.Id)), CancellationToken.None);
            foreach (var run in leading ?? [])
                if (failed.Contains(run.Id))
                    await edges.ReleaseDebounceAsync(canvas, run.Worker, run.Key, run.Id, CancellationToken.None);
            throw;
        }
        var enqueued = RecordQueued(canvas, incarnation, enqueuedAt, items, results, publish, pending);
        if (batch is { } into) await AddToBatchAsync(canvas, into, delayed, enqueued);
        return results;
    }

    /// <summary>
    /// The events this request enqueued (stored delayed or confirmed) join the batch, after the fact and before the
    /// answer: the batch is open until then (or a member's own emit holds it), so it cannot finish without them.
    /// </summary>
    private async Task AddToBatchAsync(
        string canvas,
        BatchTarget batch,
        List<ScheduledEvent> delayed,
        (List<Guid> Ids, List<string> Workers) confirmed)
    {
        var members = new List<(Guid, string)>(delayed.Count + confirmed.Ids.Count);
        foreach (var due in delayed) members.Add((due.Envelope.Id, due.Envelope.Worker));
        for (var i = 0; i < confirmed.Ids.Count; i++) members.Add((confirmed.Ids[i], confirmed.Workers[i]));
        if (await edges.AddToBatchAsync(canvas, batch, members, CancellationToken.None) ==
            BatchChange.Finished)
            throw new BatchConflictException(
                $"Batch '{batch.Id}' finished while these events were added to it: they were enqueued outside it.");
    }

    /// <summary>
    /// Each confirmed event is queued: noted, all of the request's at once, for the status store's next flush, which
    /// the answer does not wait for. They share <paramref name="enqueuedAt"/>, which their ids were made from.
    /// </summary>
    private (List<Guid> Ids, List<string> Workers) RecordQueued(
        string canvas,
        long incarnation,
        DateTimeOffset enqueuedAt,
        IReadOnlyList<BatchItem> items,
        Emitted[] results,
        bool[] publish,
        IReadOnlyList<Task> pending)
    {
        var ids = new List<Guid>(pending.Count);
        var workers = new List<string>(pending.Count);
        List<(Guid, Priority)>? prioritized = null;
        for (int i = 0, p = 0; i < items.Count; i++)
        {
            if (!publish[i] || !pending[p++].IsCompletedSuccessfully) continue;
            ids.Add(results[i].Id);
            workers.Add(items[i].Worker);
            if (items[i].Priority != Priority.Normal) (prioritized ??= []).Add((results[i].Id, items[i].Priority));
        }
        edges.RecordEmitted(new EmittedEvents(canvas, enqueuedAt, [.. ids], [.. workers], incarnation,
            prioritized?.ToArray()));
        return (ids, workers);
    }

    private static EventEnvelope Envelope(
        string canvas,
        long incarnation,
        BatchItem item,
        Guid id,
        DateTimeOffset enqueuedAt,
        string traceParent,
        BatchTarget? batch) =>
        new(id, canvas, item.Worker, enqueuedAt, Depth: 0, traceParent, item.OrderingKey, incarnation,
            BatchId: batch?.Id, DebounceKey: item.Debounce?.Key, Absorbed: item.Debounce is null ? 0 : 1,
            Priority: item.Priority);

    private static string NewTraceParent() => $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";
}
