namespace Workq.Shared.Messaging;

// Here rather than beside the publisher: a runner process throws it into handler code too. Handler code catches it by
// its full name (docs/API.md) and compiled handlers stored in PostgreSQL reference it: its namespace is the contract's,
// older than the Workq.Shared.Handlers.* namespaces.
/// <summary>
/// A worker's queue holds <c>WORKQ_MAX_QUEUED_PER_WORKER</c> events and the broker refused (nacked) one more.
/// </summary>
public sealed class QueueFullException : Exception
{
    public QueueFullException(string canvas, string worker, int limit)
        : this($"Queue full: worker {canvas}/{worker} already holds its limit of {limit} queued events " +
            $"(WORKQ_MAX_QUEUED_PER_WORKER); the event was not enqueued. Retry once the worker has drained its queue.",
                canvas, worker)
    {
    }

    private QueueFullException(string message, string canvas, string worker) : base(message)
    {
        Canvas = canvas;
        Worker = worker;
    }

    public string Canvas { get; }
    public string Worker { get; }

    /// <summary>
    /// The same refusal, thrown again in a runner process whose handler's emit the worker service was refused.
    /// </summary>
    public static QueueFullException Relayed(string message, string canvas, string worker)
        => new(message, canvas, worker);
}
