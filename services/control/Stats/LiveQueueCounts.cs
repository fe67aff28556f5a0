using System.Collections.Concurrent;
using Workq.Shared.Messaging;

namespace Workq.Control.Stats;

/// <summary>
/// Live <c>queued</c> and <c>consumers</c> of the worker queues someone is looking at. A queue is watched for
/// <see cref="WatchFor"/> after it was last asked for, and its reading is refreshed in the background every
/// <see cref="RefreshEvery"/>; a request answers from the reading when it is younger than <see cref="FreshFor"/> and
/// reads the queue first otherwise (the first request of a list pays once). So a figure is never older than about a
/// second, and a list of a thousand workers costs looking them up.
/// </summary>
public sealed class LiveQueueCounts(QueueProbe probe, ILogger<LiveQueueCounts> logger) : BackgroundService
{
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromMilliseconds(500);
    /// <summary>
    /// Above a background refresh (<see cref="RefreshEvery"/> plus the time it takes), below the promised second.
    /// </summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromMilliseconds(800);
    /// <summary>
    /// The background loop reads what came due this often, so the reads of a thousand queues spread over the half
    /// second.
    /// </summary>
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan WatchFor = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(3);

    private readonly ConcurrentDictionary<string, Watched> watched = new();

    /// <summary>
    /// The counts of each queue, in order; a queue that does not exist reads zero (and is not watched).
    /// </summary>
    public async Task<IReadOnlyList<QueueReading>> GetAsync(
        IReadOnlyList<string> queues,
        CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        var entries = new Watched[queues.Count];
        List<Watched>? stale = null;
        for (var i = 0; i < queues.Count; i++)
        {
            var entry = entries[i] = watched.GetOrAdd(queues[i], queue => new Watched(queue));
            entry.WatchedUntil = now + (long)WatchFor.TotalMilliseconds;
            if (now - entry.Reading.At >= FreshFor.TotalMilliseconds) (stale ??= []).Add(entry);
        }
        if (stale is not null) await ReadAsync(stale, cancellationToken);
        return Array.ConvertAll(entries, e => e.Reading.Counts);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = Environment.TickCount64;
                var due = new List<Watched>();
                foreach (var (queue, entry) in watched)
                {
                    if (entry.WatchedUntil <= now) watched.TryRemove(new KeyValuePair<string, Watched>(queue, entry));
                    else if (now - entry.Reading.At >= (RefreshEvery - Tick).TotalMilliseconds) due.Add(entry);
                }
                if (due.Count > 0) await ReadAsync(due, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Reads the queues in parallel. A queue that cannot be read keeps its last reading, so the answer is late rather
    /// than wrong.
    /// </summary>
    private async Task ReadAsync(IReadOnlyList<Watched> entries, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        Exception? failure = null;
        try
        {
            await Parallel.ForEachAsync(entries, new ParallelOptions
            {
                MaxDegreeOfParallelism = QueueProbe.Parallelism,
                CancellationToken = timeout.Token
            },
                async (entry, token) =>
                {
                    var at = Environment.TickCount64;
                    try
                    {
                        var counts = await probe.ReadAsync(entry.Queue, token);
                        entry.Reading = new Reading(counts ?? default, at);
                        // Gone (its worker or canvas was deleted): not read again, each 404 costs a channel.
                        if (counts is null) watched.TryRemove(new KeyValuePair<string, Watched>(entry.Queue, entry));
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        failure = e;
                    }
                });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            failure = new TimeoutException($"the broker did not answer within {ReadTimeout.TotalSeconds} s");
        }
        if (failure is not null) logger.LogWarning(
            "Queue counts not read from the broker ({Reason}); answering with the last ones read",
            failure.Message);
    }

    private sealed record Reading(QueueReading Counts, long At)
    {
        public static readonly Reading Never = new(default, long.MinValue / 2);
    }

    private sealed class Watched(string queue)
    {
        private long watchedUntil;
        private Reading reading = Reading.Never;

        public string Queue => queue;

        public long WatchedUntil
        {
            get => Volatile.Read(ref watchedUntil);
            set => Volatile.Write(ref watchedUntil, value);
        }

        public Reading Reading
        {
            get => Volatile.Read(ref reading);
            set => Volatile.Write(ref reading, value);
        }
    }
}
