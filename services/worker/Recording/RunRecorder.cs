using Npgsql;
using Workq.Shared.Configuration;
using Workq.Shared.Hosting;
using Workq.Shared.Storage;

namespace Workq.Worker.Recording;

/// <summary>
/// Keeps traces and counters off the hot path: each finished event is noted in memory (only the last
/// N traces per worker are kept, since only those are shown) and a background loop writes them all in
/// one batch a few times a second. If PostgreSQL is away, what is pending waits for the next flush.
/// The per-minute metrics ride along, added up in memory per (canvas, worker, minute). A flush is one transaction
/// that holds the workers it writes for (<see cref="FencedBatch"/>, one statement): the runs of a worker incarnation
/// deleted meanwhile are dropped, never written, and a failed flush is retried whole, so no delta is written twice.
/// </summary>
public sealed class RunRecorder(ITraceStore traces, NpgsqlDataSource db, WorkqOptions options, ILogger<RunRecorder> logger)
    : PeriodicWriter(TimeSpan.FromMilliseconds(250))
{
    private readonly Lock gate = new();
    private Dictionary<(string Canvas, string Worker, long Incarnation), Pending> pending = [];
    private Dictionary<(string Canvas, string Worker, long Incarnation, DateTime At), MinuteTally> minutes = [];

    private sealed class Pending
    {
        public readonly Queue<RunTrace> Traces = new();
        public long Processed;
        public long Failed;
    }

    private sealed class MinuteTally
    {
        public long Processed;
        public long Failed;
        public long TimedOut;
        public long Emitted;
        public readonly long[] QueueWait = new long[LatencyHistogram.Buckets];
        public readonly long[] Duration = new long[LatencyHistogram.Buckets];

        public void Add(MinuteTally other)
        {
            Processed += other.Processed;
            Failed += other.Failed;
            TimedOut += other.TimedOut;
            Emitted += other.Emitted;
            for (var i = 0; i < LatencyHistogram.Buckets; i++)
            {
                QueueWait[i] += other.QueueWait[i];
                Duration[i] += other.Duration[i];
            }
        }
    }

    public void Record(RunTrace trace)
    {
        var outcome = trace.Outcome;
        lock (gate)
        {
            var entry = Entry((trace.Envelope.Canvas, trace.Envelope.Worker, trace.Envelope.WorkerIncarnation));
            entry.Traces.Enqueue(trace);
            if (entry.Traces.Count > options.TracesPerWorker) entry.Traces.Dequeue();
            // A cancelled event never ran: traced, but not counted.
            if (outcome == Consuming.RunOutcome.Cancelled) return;
            entry.Processed++;
            if (outcome != Consuming.RunOutcome.Completed) entry.Failed++;
            var key = (trace.Envelope.Canvas, trace.Envelope.Worker, trace.Envelope.WorkerIncarnation, MetricsStore.Floor(trace.FinishedAt.UtcDateTime, MetricsStore.Minute));
            if (!minutes.TryGetValue(key, out var minute)) minutes[key] = minute = new MinuteTally();
            minute.Processed++;
            if (outcome != Consuming.RunOutcome.Completed) minute.Failed++;
            if (outcome == Consuming.RunOutcome.TimedOut) minute.TimedOut++;
            minute.Emitted += trace.Emitted.Count;
            minute.QueueWait[LatencyHistogram.Bucket((trace.StartedAt - trace.Envelope.EnqueuedAt).TotalMilliseconds)]++;
            minute.Duration[LatencyHistogram.Bucket(trace.Duration.TotalMilliseconds)]++;
        }
    }

    private Pending Entry((string Canvas, string Worker, long Incarnation) key)
    {
        if (!pending.TryGetValue(key, out var entry)) pending[key] = entry = new Pending();
        return entry;
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        Dictionary<(string Canvas, string Worker, long Incarnation), Pending> batch;
        Dictionary<(string Canvas, string Worker, long Incarnation, DateTime At), MinuteTally> minuteBatch;
        // Both taken at once, and written in one transaction: the minutes never hold fewer runs than the counters.
        lock (gate)
        {
            if (pending.Count == 0) return;
            batch = pending;
            pending = [];
            minuteBatch = minutes;
            minutes = [];
        }
        try
        {
            await using var fence = await FencedBatch.WorkersAsync(db, batch.Keys.Select(k => (k.Canvas, k.Worker)), cancellationToken);
            // In name order, as every flush of every instance locks them.
            var kept = batch.Where(p => fence.Admits(p.Key.Canvas, p.Key.Worker, p.Key.Incarnation))
                .OrderBy(p => p.Key.Canvas, StringComparer.Ordinal).ThenBy(p => p.Key.Worker, StringComparer.Ordinal).ToList();
            if (kept.Count < batch.Count)
                logger.LogInformation("Dropped the runs of {Count} deleted worker incarnation(s): nothing of theirs is written", batch.Count - kept.Count);
            // While the fence holds the workers (the trace store may be another database): a deletion waits for it too.
            await traces.AppendAsync(kept.SelectMany(p => p.Value.Traces).Select(t => t.ToEntry()).ToList(), options.TracesPerWorker, cancellationToken);
            // The rows other instances' flushes update too last, so they are held only until the commit: the counters, then the
            // minutes, in the order a dead letter updates them (DeadLetterStore.AddAsync), so the two never wait for each other both ways.
            await WorkerStore.AddCountsAsync(fence, kept.Select(p => new WorkerCounts(p.Key.Canvas, p.Key.Worker, p.Value.Processed, p.Value.Failed)).ToList(),
                cancellationToken);
            await MetricsStore.AddAsync(fence, minuteBatch.Where(m => fence.Admits(m.Key.Canvas, m.Key.Worker, m.Key.Incarnation))
                .OrderBy(m => m.Key.Canvas, StringComparer.Ordinal).ThenBy(m => m.Key.Worker, StringComparer.Ordinal).ThenBy(m => m.Key.At)
                .Select(m => new MinuteDelta(m.Key.Canvas, m.Key.Worker, m.Key.At, m.Value.Processed, m.Value.Failed, m.Value.TimedOut, m.Value.Emitted,
                    m.Value.QueueWait, m.Value.Duration)).ToList(), cancellationToken);
            await fence.CommitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not write {Count} workers' traces, counters and metrics; will retry", batch.Count);
            Requeue(batch, minuteBatch);
        }
    }

    /// <summary>Each delta is written exactly once: taken out before the write, put back only if the write failed.</summary>
    private void Requeue(Dictionary<(string Canvas, string Worker, long Incarnation), Pending> batch,
        Dictionary<(string Canvas, string Worker, long Incarnation, DateTime At), MinuteTally> minuteBatch)
    {
        lock (gate)
        {
            foreach (var (key, old) in batch)
            {
                var entry = Entry(key);
                // The unwritten traces are older than those recorded since.
                var merged = old.Traces.Concat(entry.Traces).TakeLast(options.TracesPerWorker).ToList();
                entry.Traces.Clear();
                foreach (var trace in merged) entry.Traces.Enqueue(trace);
                entry.Processed += old.Processed;
                entry.Failed += old.Failed;
            }
            foreach (var (key, old) in minuteBatch)
            {
                if (minutes.TryGetValue(key, out var since)) since.Add(old);
                else minutes[key] = old;
            }
        }
    }
}
