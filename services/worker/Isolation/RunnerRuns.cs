using System.Collections.Concurrent;
using Workq.Worker.Runs;

namespace Workq.Worker.Isolation;

/// <summary>
/// The runs one runner process holds, by the id the runner knows each by. Closed once the process is gone or going:
/// a run handed over after that would never be settled, so it is refused.
/// </summary>
public sealed class RunnerRuns
{
    private readonly ConcurrentDictionary<long, Held> runs = new();
    private readonly Lock gate = new();
    private long lastId;
    private bool closed;

    /// <summary>
    /// A run the runner holds: it ends with <see cref="Outcome"/>, or is overdue past <see cref="Deadline"/>.
    /// </summary>
    public sealed record Held(long Id, HandlerRun Run, long Deadline, CancellationToken Stopping)
    {
        private string? cancelledBy;
        private long cancelDeadline = long.MaxValue;

        public TaskCompletionSource<HandlerOutcome> Outcome { get; } =
            new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Who cancelled its event while it ran; null when nobody did.</summary>
        public string? CancelledBy => Volatile.Read(ref cancelledBy);

        /// <summary>Its time-out's deadline, or a cancel's, whichever comes first.</summary>
        public long Due => Math.Min(Deadline, Interlocked.Read(ref cancelDeadline));

        /// <summary>
        /// Marks it cancelled by <paramref name="by"/>, due by <paramref name="deadline"/>: true for the first cancel.
        /// </summary>
        public bool TryCancel(string by, long deadline)
        {
            if (Interlocked.CompareExchange(ref cancelledBy, by, null) is not null) return false;
            Interlocked.Exchange(ref cancelDeadline, deadline);
            return true;
        }
    }

    public int Count => runs.Count;

    /// <summary>The runner takes no new runs: its end settles the ones it holds.</summary>
    public bool Closed => Volatile.Read(ref closed);

    /// <summary>
    /// Holds the run until the runner says it is done, or until <paramref name="deadline"/> (in
    /// <see cref="Environment.TickCount64"/> milliseconds) has passed; null once closed.
    /// </summary>
    public Held? Add(HandlerRun run, long deadline, CancellationToken stopping)
    {
        var held = new Held(Interlocked.Increment(ref lastId), run, deadline, stopping);
        lock (gate)
        {
            if (closed) return null;
            runs[held.Id] = held;
        }
        return held;
    }

    /// <summary>
    /// The run a frame from the runner names, when it still runs; null when it has ended (or was given up at shutdown).
    /// An id this runner was never given is no race: only a forged frame names one, and it ends the runner.
    /// </summary>
    public Held? Named(long id, string frame)
    {
        if (id <= 0 || id > Interlocked.Read(ref lastId))
            throw new InvalidDataException($"a {frame} frame about run {id}, which this runner was never given");
        return runs.TryGetValue(id, out var held) ? held : null;
    }

    /// <summary>The run of the event, if held.</summary>
    public Held? OfEvent(Guid eventId)
    {
        foreach (var held in runs.Values)
            if (held.Run.Envelope.Id == eventId) return held;
        return null;
    }

    /// <summary>Takes the run out, once: true for the one caller that settles it.</summary>
    public bool TryTake(long id, out Held held) => runs.TryRemove(id, out held!);

    /// <summary>
    /// The runs past their deadline at <paramref name="now"/>, and the time-out of one of them; null when none.
    /// </summary>
    public (HashSet<long> Ids, TimeSpan Timeout, bool Cancelled)? Overdue(long now)
    {
        HashSet<long>? late = null;
        var cancelled = true;
        foreach (var (id, held) in runs)
        {
            if (now < held.Due) continue;
            (late ??= []).Add(id);
            cancelled &= held.CancelledBy is not null;
        }
        if (late is null) return null;
        var timeout = runs.TryGetValue(late.First(), out var first) ? first.Run.Timeout : TimeSpan.Zero;
        return (late, timeout, cancelled);
    }

    public void Close()
    {
        lock (gate) Volatile.Write(ref closed, true);
    }

    /// <summary>After <see cref="Close"/>: takes every run still held, each once.</summary>
    public IEnumerable<Held> TakeAll()
    {
        foreach (var id in runs.Keys)
            if (runs.TryRemove(id, out var held)) yield return held;
    }
}
