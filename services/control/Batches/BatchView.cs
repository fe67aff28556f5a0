using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Batches;

/// <summary>A batch (API.md "Batches"): its state, counts, callbacks and times.</summary>
public sealed record BatchView(
    Guid Id,
    string State,
    int Total,
    int Pending,
    int Completed,
    int Failed,
    int TimedOut,
    int Cancelled,
    int DeadLettered,
    BatchCallbackView? OnComplete,
    BatchCallbackView? OnSuccess,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ClosedAt,
    DateTimeOffset? CancelledAt,
    DateTimeOffset? FinishedAt)
{
    public static BatchView From(BatchRow row) => new(
        row.Id,
        row.State,
        row.Total,
        row.Pending,
        row.Completed,
        row.Failed,
        row.TimedOut,
        row.Cancelled,
        row.DeadLettered,
        Callback(row.OnCompleteWorker, row.Id, BatchCallbacks.OnComplete),
        Callback(row.OnSuccessWorker, row.Id, BatchCallbacks.OnSuccess),
        row.Created,
        row.Closed,
        row.CancelledAtUtc,
        row.Finished);

    private static BatchCallbackView? Callback(string? worker, Guid batchId, string name) =>
        worker is null ? null : new BatchCallbackView(worker, DerivedIds.Callback(batchId, name));
}
