using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.Worker.Consuming;

/// <summary>
/// One worker instance's concurrency slots for a worker with ordering lanes or priority queues (docs/DESIGN.md
/// "Priorities"): a run waits for a slot, and a slot that comes free goes to the waiting run of the highest priority,
/// in the order they came within one. A low run waiting since longer than <paramref name="aging"/> after it was
/// enqueued is served as normal, before the normal runs enqueued after it, so a stream of normal events cannot starve
/// the low ones.
/// </summary>
public sealed class PrioritySlots(int slots, TimeSpan aging, TimeProvider time)
{
    private sealed record Waiter(DateTimeOffset EnqueuedAt)
    {
        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Lock gate = new();
    // By rank: high, normal, low.
    private readonly Queue<Waiter>[] waiting = [new(), new(), new()];
    private int free = slots;

    /// <summary>Completes once the run holds a slot, which it gives back with <see cref="Release"/>.</summary>
    public Task WaitAsync(Priority priority, DateTimeOffset enqueuedAt, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (gate)
        {
            if (free > 0)
            {
                free--;
                return Task.CompletedTask;
            }
            waiter = new Waiter(enqueuedAt);
            waiting[Priorities.Rank(priority)].Enqueue(waiter);
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
            while (Next() is { } next)
                if (next.Granted.TrySetResult()) return;
            free++;
        }
    }

    private Waiter? Next()
    {
        var (high, normal, low) = (Head(0), Head(1), Head(2));
        if (high is not null) return waiting[0].Dequeue();
        var aged = low is not null && time.GetUtcNow() - low.EnqueuedAt >= aging;
        if (aged && (normal is null || low!.EnqueuedAt <= normal.EnqueuedAt)) return waiting[2].Dequeue();
        if (normal is not null) return waiting[1].Dequeue();
        return low is not null ? waiting[2].Dequeue() : null;
    }

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
