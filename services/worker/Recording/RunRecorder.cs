using System.Collections.Concurrent;
using Workq.Shared.Configuration;
using Workq.Shared.Hosting;
using Workq.Shared.Poison;
using Workq.Shared.Storage;

namespace Workq.Worker.Recording;

/// <summary>
/// Keeps traces and counters off the hot path: each finished event is noted in memory (only the last
/// N traces per worker are kept, since only those are shown) and a background loop writes them all in
/// one batch a few times a second. If PostgreSQL is away, what is pending waits for the next flush.
/// The per-minute metrics ride along: added up in memory per (canvas, worker, minute) and written first in
/// each flush, as one upsert of their own, so a failed trace write never sends a minute's delta twice. A write the store
/// refuses for a row's own reasons is split (<see cref="BatchSplitter"/>): the other rows land, and the bad one goes to the
/// quarantine, so one bad row never blocks every flush.
/// </summary>
public sealed class RunRecorder(ITraceStore traces, WorkerStore workers, MetricsStore metrics, QuarantineStore quarantine, WorkqOptions options,
    ILogger<RunRecorder> logger)
    : PeriodicWriter(TimeSpan.FromMilliseconds(250))
{
    private readonly OutageLog outage = new(logger, "Writing traces, counters and metrics");

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
        // Each part of a write is written once: what one wrote is not put back, only what an outage (or stopping) left.
        var minuteRows = await BatchSplitter.WriteAsync([.. minuteBatch], (part, token) => metrics.AddAsync([.. part.Select(Delta)], token),
            (row, error, token) => QuarantineAsync(QuarantineSources.Metrics, Delta(row), error, row.Key.Canvas, row.Key.Worker, null, token),
            cancellationToken);
        if (minuteRows.Outage is { } minutesFailed)
        {
            RequeueMinutes(minuteRows.Unwritten);
            Requeue(batch);
            Failed(minutesFailed, cancellationToken);
            return;
        }
        var traceRows = await BatchSplitter.WriteAsync([.. batch.Values.SelectMany(p => p.Traces)],
            (part, token) => traces.AppendAsync([.. part.Select(t => t.ToEntry())], options.TracesPerWorker, token),
            (trace, error, token) =>
                QuarantineAsync(QuarantineSources.Traces, trace.ToEntry(), error, trace.Envelope.Canvas, trace.Envelope.Worker, trace.Envelope.Id, token),
            cancellationToken);
        List<WorkerCounts> counts = [.. batch.Select(p => new WorkerCounts(p.Key.Canvas, p.Key.Worker, p.Value.Processed, p.Value.Failed))];
        var countRows = traceRows.Outage is null
            ? await BatchSplitter.WriteAsync(counts, workers.AddCountsAsync,
                (row, error, token) => QuarantineAsync(QuarantineSources.WorkerCounters, row, error, row.Canvas, row.Worker, null, token), cancellationToken)
            : new SplitResult<WorkerCounts>(counts, null);
        if ((traceRows.Outage ?? countRows.Outage) is { } failed)
        {
            Requeue(traceRows.Unwritten, countRows.Unwritten);
            Failed(failed, cancellationToken);
            return;
        }
        outage.Succeeded();
    }

    private static MinuteDelta Delta(KeyValuePair<(string Canvas, string Worker, DateTime At), MinuteTally> minute) =>
        new(minute.Key.Canvas, minute.Key.Worker, minute.Key.At, minute.Value.Processed, minute.Value.Failed, minute.Value.TimedOut, minute.Value.Emitted,
            minute.Value.QueueWait, minute.Value.Duration);

    private void Failed(Exception e, CancellationToken cancellationToken)
    {
        if (!cancellationToken.IsCancellationRequested) outage.Failed(e);
    }

    /// <summary>A row PostgreSQL (or MongoDB) refuses for its own reasons: to the quarantine, as its JSON, logged once.</summary>
    private async Task QuarantineAsync<T>(string source, T row, Exception error, string canvas, string worker, Guid? eventId,
        CancellationToken cancellationToken)
    {
        var id = await quarantine.AddAsync(QuarantineEntry.Row(source, row, error, canvas, worker, eventId), cancellationToken);
        logger.LogWarning("A row of {Source} for {Canvas}/{Worker} that the store refuses was quarantined as item {QuarantineId}: {Error}",
            source, canvas, worker, id, Failures.Describe(error));
    }

    private void RequeueMinutes(IEnumerable<KeyValuePair<(string Canvas, string Worker, DateTime At), MinuteTally>> unwritten)
    {
        lock (gate)
        {
            foreach (var (key, old) in unwritten)
            {
                if (minutes.TryGetValue(key, out var since)) since.Add(old);
                else minutes[key] = old;
            }
        }
    }

    /// <summary>What an outage left of a flush's traces and counters, back in front of what was recorded since.</summary>
    private void Requeue(IReadOnlyList<RunTrace> unwrittenTraces, IReadOnlyList<WorkerCounts> unwrittenCounts)
    {
        var batch = new Dictionary<(string Canvas, string Worker), Pending>();
        Pending Of(string canvas, string worker) => batch.TryGetValue((canvas, worker), out var entry) ? entry : batch[(canvas, worker)] = new Pending();
        foreach (var trace in unwrittenTraces) Of(trace.Envelope.Canvas, trace.Envelope.Worker).Traces.Enqueue(trace);
        foreach (var counts in unwrittenCounts)
        {
            var entry = Of(counts.Canvas, counts.Worker);
            entry.Processed += counts.Processed;
            entry.Failed += counts.Failed;
        }
        Requeue(batch);
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
