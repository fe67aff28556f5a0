using Dapper;
using Npgsql;

namespace Workq.Shared.Storage;

/// <summary>
/// Per-minute aggregates per worker (metrics_minute), rolled up into hours (metrics_hour) for the longer
/// retention. Writers only add: counts add and histograms add bucket by bucket, so any number of worker
/// instances and dispatchers may write the same minute.
/// </summary>
public sealed class MetricsStore(NpgsqlDataSource db) : ICanvasData, IWorkerData
{
    public const int Minute = 60;
    public const int Hour = 3600;
    private static readonly DateTime Origin = DateTime.UnixEpoch;

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "delete from metrics_minute where canvas = @canvas; delete from metrics_hour where canvas = @canvas",
            new { canvas },
            cancellationToken);

    public Task DeleteWorkerAsync(string canvas, string worker, CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            delete from metrics_minute where canvas = @canvas and worker = @worker;
            delete from metrics_hour where canvas = @canvas and worker = @worker;
            """, new { canvas, worker }, cancellationToken);

    /// <summary>The start of the step holding <paramref name="at"/> (UTC).</summary>
    public static DateTime Floor(DateTime at, int stepSeconds)
    {
        var ticks = TimeSpan.TicksPerSecond * stepSeconds;
        var utc = at.ToUniversalTime();
        return new DateTime(utc.Ticks - (utc.Ticks - Origin.Ticks) % ticks, DateTimeKind.Utc);
    }

    /// <summary>
    /// One statement for every row a flush touched, in a batch that holds their workers (the caller keeps only those it
    /// admits).
    /// </summary>
    public static async Task AddAsync(
        FencedBatch batch,
        IReadOnlyCollection<MinuteDelta> deltas,
        CancellationToken cancellationToken)
    {
        if (deltas.Count == 0) return;
        await batch.Connection.ExecuteAsync(new CommandDefinition("""
            insert into metrics_minute as m (canvas, worker, at, processed, failed, timed_out, emitted, queue_wait,
                duration)
            select d.canvas, d.worker, d.at, d.processed, d.failed, d.timed_out, d.emitted,
                   (@waits)[(d.n - 1) * @width + 1 : d.n * @width], (@durations)[(d.n - 1) * @width + 1 : d.n * @width]
              from unnest(@canvases, @workers, @ats, @processed, @failed, @timedOut, @emitted)
                   with ordinality as d(canvas, worker, at, processed, failed, timed_out, emitted, n)
                on conflict (canvas, worker, at) do update
               set processed = m.processed + excluded.processed, failed = m.failed + excluded.failed,
                   timed_out = m.timed_out + excluded.timed_out, emitted = m.emitted + excluded.emitted,
                   queue_wait = workq_add_buckets(m.queue_wait, excluded.queue_wait),
                   duration = workq_add_buckets(m.duration, excluded.duration)
            """, new
        {
            width = LatencyHistogram.Buckets,
            canvases = deltas.Select(d => d.Canvas).ToArray(),
            workers = deltas.Select(d => d.Worker).ToArray(),
            ats = deltas.Select(d => d.At).ToArray(),
            processed = deltas.Select(d => d.Processed).ToArray(),
            failed = deltas.Select(d => d.Failed).ToArray(),
            timedOut = deltas.Select(d => d.TimedOut).ToArray(),
            emitted = deltas.Select(d => d.Emitted).ToArray(),
            waits = deltas.SelectMany(d => d.QueueWait).ToArray(),
            durations = deltas.SelectMany(d => d.Duration).ToArray(),
        }, batch.Transaction, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Points every <paramref name="stepSeconds"/> from the step holding <paramref name="from"/> to the one holding
    /// <paramref name="to"/>, zeros where nothing happened; one worker's, or the canvas's (all workers merged) when
    /// <paramref name="worker"/> is null. Hours still within the minute retention are rolled up from the minutes.
    /// </summary>
    public async Task<IReadOnlyList<MetricsPoint>> ReadAsync(
        string canvas,
        string? worker,
        DateTime from,
        DateTime to,
        int stepSeconds,
        TimeSpan minuteRetention,
        CancellationToken cancellationToken)
    {
        var first = Floor(from, stepSeconds);
        var end = Floor(to, stepSeconds).AddSeconds(stepSeconds);
        // Hours from here on have all their minutes still kept; earlier ones come from the roll-up.
        var minutesFrom = stepSeconds == Minute ? first : Floor(DateTime.UtcNow - minuteRetention, Hour).AddHours(1);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition("""
            select date_bin(make_interval(secs => @step), at, timestamptz '1970-01-01Z') as At, sum(processed)::bigint
                as Processed,
                   sum(failed)::bigint as Failed, sum(timed_out)::bigint as TimedOut, sum(dead_lettered)::bigint as
                       DeadLettered,
                   sum(emitted)::bigint as Emitted, workq_sum_buckets(queue_wait) as QueueWait,
                       workq_sum_buckets(duration) as Duration
              from metrics_minute
             where canvas = @canvas and (@worker::text is null or worker = @worker) and at >= greatest(@first,
                 @minutesFrom) and at < @end
             group by 1
            union all
            select at, sum(processed)::bigint, sum(failed)::bigint, sum(timed_out)::bigint, sum(dead_lettered)::bigint,
                   sum(emitted)::bigint, workq_sum_buckets(queue_wait), workq_sum_buckets(duration)
              from metrics_hour
             where @step = 3600 and canvas = @canvas and (@worker::text is null or worker = @worker) and at >= @first
                 and at < least(@end, @minutesFrom)
             group by at
            """, new { step = stepSeconds, canvas, worker, first, end, minutesFrom }, cancellationToken:
                cancellationToken)))
            .ToDictionary(r => DateTime.SpecifyKind(r.At, DateTimeKind.Utc));

        var points = new List<MetricsPoint>();
        for (var at = first; at < end; at = at.AddSeconds(stepSeconds))
            points.Add(rows.TryGetValue(at, out var row)
                ? new MetricsPoint(
                    at,
                    row.Processed,
                    row.Failed,
                    row.TimedOut,
                    row.DeadLettered,
                    row.Emitted,
                    Summary(row.QueueWait),
                    Summary(row.Duration))
                : new MetricsPoint(at, 0, 0, 0, 0, 0, Summary([]), Summary([])));
        return points;
    }

    private static Percentiles Summary(long[] buckets) =>
        new(
            LatencyHistogram.Percentile(buckets, 0.50),
            LatencyHistogram.Percentile(buckets, 0.95),
            LatencyHistogram.Percentile(buckets, 0.99));

    /// <summary>
    /// Recomputes the recent hours from their minutes (replacing, so running it twice or on two dispatchers is
    /// harmless), then drops what is past each retention.
    /// </summary>
    public async Task RollUpAsync(
        TimeSpan recompute,
        TimeSpan minuteRetention,
        TimeSpan hourRetention,
        CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into metrics_hour (canvas, worker, at, processed, failed, timed_out, dead_lettered, emitted,
                queue_wait, duration)
            select canvas, worker, date_bin('1 hour', at, timestamptz '1970-01-01Z'), sum(processed), sum(failed),
                sum(timed_out),
                   sum(dead_lettered), sum(emitted), workq_sum_buckets(queue_wait), workq_sum_buckets(duration)
              from metrics_minute where at >= @since
             group by 1, 2, 3
                on conflict (canvas, worker, at) do update
               set processed = excluded.processed, failed = excluded.failed, timed_out = excluded.timed_out,
                   dead_lettered = excluded.dead_lettered, emitted = excluded.emitted,
                   queue_wait = excluded.queue_wait, duration = excluded.duration;
            delete from metrics_minute where at < @minutesBefore;
            delete from metrics_hour where at < @hoursBefore;
            """, new
        {
            since = Floor(now - recompute, Hour),
            minutesBefore = now - minuteRetention,
            hoursBefore = now
            - hourRetention
        },
            cancellationToken: cancellationToken));
    }

    private sealed class Row
    {
        public DateTime At { get; set; }
        public long Processed { get; set; }
        public long Failed { get; set; }
        public long TimedOut { get; set; }
        public long DeadLettered { get; set; }
        public long Emitted { get; set; }
        public long[] QueueWait { get; set; } = [];
        public long[] Duration { get; set; } = [];
    }
}
