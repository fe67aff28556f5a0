using Npgsql;
using Workq.Shared.Configuration;
using Workq.Shared.Hosting;
using Workq.Shared.Poison;
using Workq.Shared.Storage;
using Workq.Worker.Runs;

namespace Workq.Worker.Recording;

/// <summary>
/// Keeps traces and counters off the hot path: each finished event is noted in memory (only the last
/// N traces per worker are kept, since only those are shown) and a background loop writes them all in
/// one batch a few times a second. If PostgreSQL is away, what is pending waits for the next flush.
/// The per-minute metrics ride along, added up in memory per (canvas, worker, minute). A flush is one transaction
/// that holds the workers it writes for (<see cref="FencedBatch"/>, one statement): the runs of a worker incarnation
/// deleted meanwhile are dropped, never written, and a flush an outage stops is retried, so no delta is written twice.
/// A row the store refuses for its own reasons is found by splitting the flush (<see cref="BatchSplitter"/>): the other
/// rows land, and the bad one goes to the quarantine, so one bad row never blocks every flush.
/// </summary>
public sealed class RunRecorder(
    ITraceStore traces,
    NpgsqlDataSource db,
    QuarantineStore quarantine,
    TraceStoreOptions options,
    ILogger<RunRecorder> logger)
    : PeriodicWriter(TimeSpan.FromMilliseconds(250))
{
    private readonly OutageLog outage = new(logger, "Writing traces, counters and metrics");

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
            if (outcome == RunOutcome.Cancelled) return;
            entry.Processed++;
            // A run that ended in a Sleep or a WaitFor did what it should.
            var failed = outcome is not (RunOutcome.Completed or RunOutcome.Suspended);
            if (failed) entry.Failed++;
            var key = (trace.Envelope.Canvas, trace.Envelope.Worker, trace.Envelope.WorkerIncarnation, MetricsStore
                .Floor(trace.FinishedAt.UtcDateTime, MetricsStore.Minute));
            if (!minutes.TryGetValue(key, out var minute)) minutes[key] = minute = new MinuteTally();
            minute.Processed++;
            if (failed) minute.Failed++;
            if (outcome == RunOutcome.TimedOut) minute.TimedOut++;
            minute.Emitted += trace.Emitted.Count;
            // A resumed event was enqueued before it slept: its wait since then is not a queue's.
            if (trace.Envelope.Resume == 0)
                minute.QueueWait[
                    LatencyHistogram.Bucket((trace.StartedAt - trace.Envelope.EnqueuedAt).TotalMilliseconds)]++;
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
        // One row per trace, per worker's counts and per minute, in name order (as every flush of every instance locks
        // the workers): written all at once, and split only when the store refuses one of them.
        var rows = batch.OrderBy(p => p.Key.Canvas, StringComparer.Ordinal)
            .ThenBy(p => p.Key.Worker, StringComparer.Ordinal)
            .SelectMany(p => p.Value.Traces.Select(t => (FlushRow)new TraceRow(p.Key, t))
                .Append(new CountsRow(p.Key, p.Value.Processed, p.Value.Failed)))
            .Concat(minuteBatch.OrderBy(m => m.Key.Canvas, StringComparer.Ordinal)
                .ThenBy(m => m.Key.Worker, StringComparer.Ordinal)
                .ThenBy(m => m.Key.At)
                .Select(m => new MinuteRow((m.Key.Canvas, m.Key.Worker, m.Key.Incarnation), m.Key.At, m.Value)))
            .ToList();
        var written = await BatchSplitter.WriteAsync(rows, WriteAsync, QuarantineAsync, cancellationToken);
        if (written.Outage is { } failed)
        {
            Requeue(written.Unwritten);
            if (!cancellationToken.IsCancellationRequested) outage.Failed(failed);
            return;
        }
        outage.Succeeded();
    }

    /// <summary>
    /// Rows of a flush in one transaction that holds their workers; those of a worker incarnation deleted meanwhile are
    /// dropped.
    /// </summary>
    private async Task WriteAsync(IReadOnlyList<FlushRow> rows, CancellationToken cancellationToken)
    {
        await using var fence = await FencedBatch.WorkersAsync(
            db,
            rows.Select(r => (r.Key.Canvas, r.Key.Worker)).Distinct(),
            cancellationToken);
        var kept = rows.Where(r => fence.Admits(r.Key.Canvas, r.Key.Worker, r.Key.Incarnation)).ToList();
        if (kept.Count < rows.Count)
            logger.LogInformation("Dropped {Count} trace, counter and metric rows of deleted worker incarnations: " +
                "nothing of theirs is written", rows.Count - kept.Count);
        // While the fence holds the workers (the trace store may be another database): a deletion waits for it too.
        await traces.AppendAsync(
            kept.OfType<TraceRow>().Select(t => t.Trace.ToEntry()).ToList(),
            options.TracesPerWorker,
            cancellationToken);
        // The rows other instances' flushes update too last, so they are held only until the commit: the counters, then
        // the minutes, in the order a dead letter updates them (DeadLetterStore.AddAsync), so the two never wait for
        // each other both ways.
        await WorkerStore.AddCountsAsync(fence, kept.OfType<CountsRow>()
            .Select(c => new WorkerCounts(c.Key.Canvas, c.Key.Worker, c.Processed, c.Failed))
            .ToList(),
            cancellationToken);
        await MetricsStore.AddAsync(fence, kept.OfType<MinuteRow>().Select(m => m.Delta).ToList(), cancellationToken);
        await fence.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// A row PostgreSQL (or MongoDB) refuses for its own reasons: to the quarantine, as its JSON, logged once.
    /// </summary>
    private async Task QuarantineAsync(FlushRow row, Exception error, CancellationToken cancellationToken)
    {
        var (source, value, eventId) = row switch
        {
            TraceRow t => (QuarantineSources.Traces, (object)t.Trace.ToEntry(), (Guid?)t.Trace.Envelope.Id),
            CountsRow c => (QuarantineSources
                .WorkerCounters, new WorkerCounts(c.Key.Canvas, c.Key.Worker, c.Processed, c.Failed), null),
            MinuteRow m => (QuarantineSources.Metrics, m.Delta, null),
            _ => throw new ArgumentOutOfRangeException(nameof(row)),
        };
        var id = await quarantine.AddAsync(
            QuarantineEntry.Row(source, value, error, row.Key.Canvas, row.Key.Worker, eventId),
            cancellationToken);
        logger.LogWarning("A row of {Source} for {Canvas}/{Worker} that the store refuses was quarantined as item " +
            "{QuarantineId}: {Error}",
            source, row.Key.Canvas, row.Key.Worker, id, Failures.Describe(error));
    }

    /// <summary>
    /// What an outage (or stopping) left of a flush, back in front of what was recorded since: each delta is written
    /// exactly once.
    /// </summary>
    private void Requeue(IReadOnlyList<FlushRow> unwritten)
    {
        lock (gate)
        {
            foreach (var group in unwritten.OfType<TraceRow>().GroupBy(t => t.Key))
            {
                var entry = Entry(group.Key);
                // The unwritten traces are older than those recorded since.
                var merged = group.Select(t => t.Trace).Concat(entry.Traces).TakeLast(options.TracesPerWorker).ToList();
                entry.Traces.Clear();
                foreach (var trace in merged) entry.Traces.Enqueue(trace);
            }
            foreach (var counts in unwritten.OfType<CountsRow>())
            {
                var entry = Entry(counts.Key);
                entry.Processed += counts.Processed;
                entry.Failed += counts.Failed;
            }
            foreach (var minute in unwritten.OfType<MinuteRow>())
            {
                var key = (minute.Key.Canvas, minute.Key.Worker, minute.Key.Incarnation, minute.At);
                if (minutes.TryGetValue(key, out var since)) since.Add(minute.Tally);
                else minutes[key] = minute.Tally;
            }
        }
    }

    /// <summary>One row of a flush, of one worker incarnation.</summary>
    private abstract record FlushRow((string Canvas, string Worker, long Incarnation) Key);

    private sealed record TraceRow(
        (string Canvas, string Worker, long Incarnation) Key,
        RunTrace Trace) : FlushRow(Key);

    private sealed record CountsRow(
        (string Canvas, string Worker, long Incarnation) Key,
        long Processed,
        long Failed) : FlushRow(Key);

    private sealed record MinuteRow(
        (string Canvas, string Worker, long Incarnation) Key,
        DateTime At,
        MinuteTally Tally) : FlushRow(Key)
    {
        public MinuteDelta Delta => new(
            Key.Canvas,
            Key.Worker,
            At,
            Tally.Processed,
            Tally.Failed,
            Tally.TimedOut,
            Tally.Emitted,
            Tally.QueueWait,
            Tally.Duration);
    }
}
