using System.Collections.Concurrent;
using Workq.Shared.Configuration;
using Workq.Shared.Hosting;
using Workq.Shared.Storage;

namespace Workq.Worker.Recording;

/// <summary>
/// Keeps traces and counters off the hot path: each finished event is noted in memory (only the last
/// N traces per worker are kept, since only those are shown) and a background loop writes them all in
/// one batch a few times a second. If PostgreSQL is away, what is pending waits for the next flush.
/// The per-minute metrics ride along: added up in memory per (canvas, worker, minute) and written first in
/// each flush, as one upsert of their own, so a failed trace write never sends a minute's delta twice.
/// </summary>
public sealed class RunRecorder(ITraceStore traces, WorkerStore workers, MetricsStore metrics, WorkqOptions options, ILogger<RunRecorder> logger)
    : PeriodicWriter(TimeSpan.FromMilliseconds(250))
{

    private readonly Lock gate = new();
    private Dictionary<(string Canvas, string Worker), Pending> pending = [];
    private Dictionary<(string Canvas, string Worker, DateTime At), MinuteTally> minutes = [];

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
            var entry = Entry(trace.Envelope.Canvas, trace.Envelope.Worker);
            entry.Traces.Enqueue(trace);
            if (entry.Traces.Count > options.TracesPerWorker) entry.Traces.Dequeue();
            // A cancelled event never ran: traced, but not counted.
            if (outcome == Consuming.RunOutcome.Cancelled) return;
            entry.Processed++;
            if (outcome != Consuming.RunOutcome.Completed) entry.Failed++;
            var key = (trace.Envelope.Canvas, trace.Envelope.Worker, MetricsStore.Floor(trace.FinishedAt.UtcDateTime, MetricsStore.Minute));
            if (!minutes.TryGetValue(key, out var minute)) minutes[key] = minute = new MinuteTally();
            minute.Processed++;
            if (outcome != Consuming.RunOutcome.Completed) minute.Failed++;
            if (outcome == Consuming.RunOutcome.TimedOut) minute.TimedOut++;
            minute.Emitted += trace.Emitted.Count;
            minute.QueueWait[LatencyHistogram.Bucket((trace.StartedAt - trace.Envelope.EnqueuedAt).TotalMilliseconds)]++;
            minute.Duration[LatencyHistogram.Bucket(trace.Duration.TotalMilliseconds)]++;
        }
    }

    private Pending Entry(string canvas, string worker)
    {
        if (!pending.TryGetValue((canvas, worker), out var entry)) pending[(canvas, worker)] = entry = new Pending();
        return entry;
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        Dictionary<(string Canvas, string Worker), Pending> batch;
        Dictionary<(string Canvas, string Worker, DateTime At), MinuteTally> minuteBatch;
        // Both taken at once, and the minutes written first: the minutes never hold fewer runs than the counters.
        lock (gate)
        {
            if (pending.Count == 0) return;
            batch = pending;
            pending = [];
            minuteBatch = minutes;
            minutes = [];
        }
        if (!await WriteMinutesAsync(minuteBatch, cancellationToken))
        {
            Requeue(batch);
            return;
        }
        try
        {
            await traces.AppendAsync(batch.Values.SelectMany(p => p.Traces).Select(t => t.ToEntry()).ToList(), options.TracesPerWorker, cancellationToken);
            await workers.AddCountsAsync(batch.Select(p => new WorkerCounts(p.Key.Canvas, p.Key.Worker, p.Value.Processed, p.Value.Failed)).ToList(), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not write {Count} workers' traces and counters; will retry", batch.Count);
            Requeue(batch);
        }
    }

    /// <summary>Each delta is written exactly once: taken out before the write, put back only if the write failed.</summary>
    private async Task<bool> WriteMinutesAsync(Dictionary<(string Canvas, string Worker, DateTime At), MinuteTally> batch, CancellationToken cancellationToken)
    {
        try
        {
            await metrics.AddAsync(batch.Select(m => new MinuteDelta(m.Key.Canvas, m.Key.Worker, m.Key.At, m.Value.Processed, m.Value.Failed,
                m.Value.TimedOut, m.Value.Emitted, m.Value.QueueWait, m.Value.Duration)).ToList(), cancellationToken);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not write {Count} per-minute metrics rows; will retry", batch.Count);
            lock (gate)
            {
                foreach (var (key, old) in batch)
                {
                    if (minutes.TryGetValue(key, out var since)) since.Add(old);
                    else minutes[key] = old;
                }
            }
            return false;
        }
    }

    private void Requeue(Dictionary<(string Canvas, string Worker), Pending> batch)
    {
        lock (gate)
        {
            foreach (var (key, old) in batch)
            {
                var entry = Entry(key.Canvas, key.Worker);
                // The unwritten traces are older than those recorded since.
                var merged = old.Traces.Concat(entry.Traces).TakeLast(options.TracesPerWorker).ToList();
                entry.Traces.Clear();
                foreach (var trace in merged) entry.Traces.Enqueue(trace);
                entry.Processed += old.Processed;
                entry.Failed += old.Failed;
            }
        }
    }
}
