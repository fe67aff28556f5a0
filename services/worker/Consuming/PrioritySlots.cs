using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.Worker.Consuming;

/// <summary>
/// One worker instance's concurrency slots for a worker with ordering lanes or priority queues (docs/DESIGN.md
/// "Priorities"): a run waits for a slot, and a slot that comes free goes to the waiting run of the highest priority,
/// in the order they came within one. A low run waiting since longer than <paramref name="aging"/> after it was
/// enqueued is served as normal, before the normal runs enqueued after it, so a stream of normal events cannot starve
/// the low ones.
/// <para>
/// With priority queues, each consumed with a prefetch of <paramref name="window"/>, the gate also knows what is on its
/// way: a delivery of a queue that left while the instance held a full window of that queue's deliveries is replaced
/// by the broker if the queue has more. Until that one comes, a free slot does not go to a run of a lower priority:
/// runs faster than the refill do not let lower ones through. Whether the queue has more, <paramref name="queued"/>
/// asks the broker (its ready count; null when it cannot tell): none, and the slot goes at once; else the wait lasts
/// until the refill comes, or <see cref="RefillWait"/> at most.
/// </para>
/// </summary>
public sealed class PrioritySlots(
    int slots,
    TimeSpan aging,
    TimeProvider time,
    int window = 0,
    Func<Priority, Task<long?>>? queued = null)
{
    /// <summary>Longer than a refill takes on a loaded broker: the wait when the broker says the queue has more, or
    /// cannot say.</summary>
    public static readonly TimeSpan RefillWait = TimeSpan.FromSeconds(2);

    /// <summary>Between two questions to the broker about one queue.</summary>
    public static readonly TimeSpan AskEvery = TimeSpan.FromMilliseconds(100);

    private sealed record Waiter(DateTimeOffset EnqueuedAt)
    {
        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Lock gate = new();
    // By rank: high, normal, low.
    private readonly Queue<Waiter>[] waiting = [new(), new(), new()];
    private readonly int[] held = new int[3];
    private readonly int[] refills = new int[3];
    private readonly DateTimeOffset[] refillsUntil = new DateTimeOffset[3];
    private readonly DateTimeOffset[] askedAt = new DateTimeOffset[3];
    private readonly bool[] asking = new bool[3];
    // Offers a slot held for a refill again once the wait is over; one-shot, so nothing holds it afterwards.
    private ITimer? regrant;
    private int free = slots;

    /// <summary>Completes once the run holds a slot, which it gives back with <see cref="Release"/>.</summary>
    public Task WaitAsync(Priority priority, DateTimeOffset enqueuedAt, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (gate)
        {
            var rank = Priorities.Rank(priority);
            if (free > 0 && !Waiting() && !Held(Effective(rank, enqueuedAt)))
            {
                free--;
                return Task.CompletedTask;
            }
            waiter = new Waiter(enqueuedAt);
            waiting[rank].Enqueue(waiter);
            Grant();
        }
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() =>
            {
                // Under the gate, so a slot is never granted to a waiter that is gone: it stays in its queue, skipped.
                lock (gate) waiter.Granted.TrySetCanceled(cancellationToken);
            });
            waiter.Granted.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }
        return waiter.Granted.Task;
    }

    public void Release()
    {
        lock (gate)
        {
            free++;
            Grant();
        }
    }

    /// <summary>A delivery came from the worker's queue of <paramref name="queue"/>'s priority.</summary>
    public void Delivered(Priority queue)
    {
        if (window <= 0) return;
        lock (gate)
        {
            var rank = Priorities.Rank(queue);
            held[rank]++;
            if (refills[rank] > 0) refills[rank]--;
        }
    }

    /// <summary>
    /// A delivery of that queue was acked or given back: if the window was full, the broker sends the next one it has.
    /// Before <see cref="Release"/>, so the slot it frees waits for that one.
    /// </summary>
    public void Settled(Priority queue)
    {
        if (window <= 0) return;
        lock (gate)
        {
            var rank = Priorities.Rank(queue);
            if (held[rank]-- < window) return;
            refills[rank]++;
            refillsUntil[rank] = time.GetUtcNow() + RefillWait;
        }
    }

    private void Grant()
    {
        while (free > 0 && Next() is { } next)
            if (next.Granted.TrySetResult()) free--;
    }

    private Waiter? Next()
    {
        var (high, normal, low) = (Head(0), Head(1), Head(2));
        int rank;
        if (high is not null) rank = 0;
        else if (low is not null && Effective(2, low.EnqueuedAt) == 1
            && (normal is null || low.EnqueuedAt <= normal.EnqueuedAt)) return Held(1) ? null : waiting[2].Dequeue();
        else if (normal is not null) rank = 1;
        else if (low is not null) rank = 2;
        else return null;
        return Held(rank) ? null : waiting[rank].Dequeue();
    }

    // A low run waiting past the aging time competes as a normal one.
    private int Effective(int rank, DateTimeOffset enqueuedAt)
        => rank == 2 && time.GetUtcNow() - enqueuedAt >= aging ? 1 : rank;

    /// <summary>
    /// Whether a run of that rank must leave a free slot to a delivery of a higher one on its way; if so, the slot is
    /// offered again once that wait is over.
    /// </summary>
    private bool Held(int rank)
    {
        var now = time.GetUtcNow();
        for (var higher = 0; higher < rank; higher++)
        {
            if (refills[higher] == 0) continue;
            if (now < refillsUntil[higher])
            {
                var offerAgainAt = refillsUntil[higher];
                if (queued is not null && !asking[higher])
                {
                    if (now - askedAt[higher] >= AskEvery) Ask(higher, now);
                    else if (askedAt[higher] + AskEvery < offerAgainAt) offerAgainAt = askedAt[higher] + AskEvery;
                }
                regrant ??= time.CreateTimer(_ =>
                {
                    lock (gate) Grant();
                }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                regrant.Change(offerAgainAt - now, Timeout.InfiniteTimeSpan);
                return true;
            }
            refills[higher] = 0;
        }
        return false;
    }

    /// <summary>
    /// Asks the broker whether the queue of that rank has events ready: if not, no refill is owed (one the broker sent
    /// already is not ready any more, and is taken as it comes), and the held slot is offered again.
    /// </summary>
    private void Ask(int rank, DateTimeOffset now)
    {
        asking[rank] = true;
        askedAt[rank] = now;
        // Off this thread: the answer takes the gate, which the caller holds.
        _ = Task.Run(AnswerAsync);

        async Task AnswerAsync()
        {
            long? ready = null;
            try
            {
                ready = await queued!(PriorityOf(rank));
            }
            catch (Exception)
            {
                // Cannot tell: the refill is waited for, as without asking.
            }
            lock (gate)
            {
                asking[rank] = false;
                if (ready != 0) return;
                refills[rank] = 0;
                Grant();
            }
        }
    }

    private static Priority PriorityOf(int rank) => rank switch
    {
        0 => Priority.High,
        1 => Priority.Normal,
        _ => Priority.Low,
    };

    private bool Waiting() => Head(0) is not null || Head(1) is not null || Head(2) is not null;

    // The first waiter of the rank still waiting; the cancelled ones before it are dropped.
    private Waiter? Head(int rank)
    {
        var queue = waiting[rank];
        while (queue.TryPeek(out var head))
        {
            if (!head.Granted.Task.IsCompleted) return head;
            queue.Dequeue();
        }
        return null;
    }
}
