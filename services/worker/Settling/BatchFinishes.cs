using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Worker.Settling;

/// <summary>
/// Makes a batch member's final status durable before its delivery is acked (API.md "Batches"): a status flush may lag
/// or die with the instance, and a batch must never wait for a member that ended. The finishes of every consumer of the
/// instance are written together, one insert at a time (a group commit: what arrives during a write goes in the next),
/// so the wait is one write, not one per event; a dispatcher's settler counts them into their batches. A database that
/// is down is retried with backoff while the deliveries wait, unacked (they hold their slots, which slows the worker
/// rather than spinning); after <see cref="GiveUpAfter"/> the deliveries go back to their queues.
/// </summary>
public sealed class BatchFinishes(BatchStore batches, ILogger<BatchFinishes> logger)
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    private readonly GroupCommit<BatchFinish> writes = new(
        finishes => WriteWithRetriesAsync(batches, logger, finishes),
        Linger);

    /// <summary>
    /// Completes once the status an event ends its delivery with is stored for its batch; nothing to do (completed at
    /// once) for an event outside batches or for a status that is not final. A dead letter is not recorded here: the
    /// dispatcher records it where it keeps it, as it does the broker's own.
    /// </summary>
    public Task RecordAsync(EventEnvelope envelope, EventStatusUpdate settled) =>
        envelope.BatchId is not { } batchId || !EventStatuses.IsFinal(settled.Status)
            || settled.Status is EventStatuses.DeadLettered or EventStatuses.Quarantined
            ? Task.CompletedTask
            : writes.AddAsync(new BatchFinish(envelope.Canvas, batchId, envelope.Id, settled.Status, settled.Result,
                settled.Error));

    private static async Task WriteWithRetriesAsync(
        BatchStore batches,
        ILogger logger,
        List<BatchFinish> finishes)
    {
        var giveUpAt = DateTimeOffset.UtcNow + GiveUpAfter;
        var backoff = FirstBackoff;
        while (true)
        {
            try
            {
                await batches.RecordFinishesAsync(finishes, CancellationToken.None);
                return;
            }
            catch (Exception e)
            {
                if (DateTimeOffset.UtcNow + backoff > giveUpAt)
                {
                    logger.LogError(e, "Could not record {Count} batch members' final statuses; their deliveries go " +
                        "back to their queues", finishes.Count);
                    throw;
                }
                logger.LogWarning(e, "Recording {Count} batch members' final statuses failed; retrying in {Backoff}",
                    finishes.Count, backoff);
                await Task.Delay(backoff);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
