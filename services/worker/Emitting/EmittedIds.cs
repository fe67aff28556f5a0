using Workq.Shared.Storage;
using Workq.Worker.Settling;

namespace Workq.Worker.Emitting;

/// <summary>
/// Keeps the ids runs emitted as idempotency keys (API.md "Exactly-once fan-out"), the runs of every consumer of the
/// instance together: one write per canvas at a time, whatever the number of runs ending at once (a self-emit loop at
/// concurrency 100 would otherwise open a connection per run). Best effort: a write that fails is logged, and a run
/// again of those events may emit them again.
/// </summary>
public sealed class EmittedIds(IdempotencyStore idempotency, ILogger<EmittedIds> logger)
{
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(2);
    private readonly GroupCommit<Kept> writes = new(kept => WriteAsync(idempotency, logger, kept), Linger);

    /// <summary>Completes once the keys are written (or their write failed, logged): never faults.</summary>
    public Task KeepAsync(string canvas, long canvasIncarnation, List<(string Key, Guid Id)> keys) =>
        writes.AddAsync(new Kept(canvas, canvasIncarnation, keys));

    private static async Task WriteAsync(IdempotencyStore idempotency, ILogger logger, List<Kept> kept)
    {
        foreach (var canvas in kept.GroupBy(k => (k.Canvas, k.Incarnation)))
        {
            var keys = canvas.SelectMany(k => k.Keys).ToList();
            try
            {
                await idempotency.ClaimAsync(canvas.Key.Canvas, canvas.Key.Incarnation, keys, DateTimeOffset.UtcNow,
                    CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Could not keep {Count} ids that runs of {Canvas} emitted; a run again of those " +
                    "events may emit them again", keys.Count, canvas.Key.Canvas);
            }
        }
    }

    private sealed record Kept(string Canvas, long Incarnation, List<(string Key, Guid Id)> Keys);
}
