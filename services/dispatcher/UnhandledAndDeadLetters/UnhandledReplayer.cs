using Workq.Dispatcher.Scheduling;
using Workq.Shared.Configuration;
using Workq.Shared.Messaging;
using Workq.Shared.Poison;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.UnhandledAndDeadLetters;

/// <summary>
/// Replays parked events into a worker's queue as soon as the worker exists (told by the control
/// plane, and checked every two seconds in case a message was missed), and keeps the parked and
/// dead-letter lists within their bounds. A parked event the broker refuses for its own reasons (its
/// canvas's exchange is gone, say) is tried on <see cref="PoisonGuard.MaxAttempts"/> passes, then moved
/// to the quarantine, so it never holds up the events parked after it.
/// </summary>
public sealed class UnhandledReplayer(
    UnhandledStore unhandled,
    DeadLetterStore deadLetters,
    EventPublisher publisher,
    ExchangeCheck exchanges,
    EventStatusRecorder statuses,
    RetentionOptions options,
    ILogger<UnhandledReplayer> logger) : BackgroundService
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim wake = new(0, 1);
    private readonly OutageLog outage = new(logger, "Replaying parked events");
    private readonly Attempts<long> attempts = new();

    public void Wake()
    {
        if (wake.CurrentCount == 0) try { wake.Release(); } catch (SemaphoreFullException) { }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                int replayed;
                do
                {
                    (replayed, var quarantined) = await unhandled.ReplayAsync(
                        e => publisher.PublishAsync(e.Envelope, e.Body, stoppingToken),
                        stoppingToken,
                        GiveUpAsync);
                    if (quarantined is var (entry, id)) Quarantined(entry, id);
                    if (replayed > 0) logger.LogInformation(
                        "Replayed {Count} parked events into their new workers' queues",
                        replayed);
                } while (replayed > 0);
                await unhandled.TrimAsync(options.MaxUnhandledPerWorker, stoppingToken);
                await deadLetters.TrimAsync(options.MaxDeadLettersPerWorker, stoppingToken);
                outage.Succeeded();
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested
                && (e is QueueFullException || Failures.IsTransient(e)))
            {
                // A full queue keeps its events parked until it drains: logged once, and a summary a minute, as an
                // outage.
                outage.Failed(e);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // An event the broker refused, not given up on yet: tried again on the next pass.
                logger.LogDebug(e, "Replaying parked events stopped at one the broker refused; trying again shortly");
            }
            try
            {
                await wake.WaitAsync(CheckEvery, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The parked event the broker refused: to the quarantine when its canvas is gone or on its third refusal, else
    /// kept for another pass.
    /// </summary>
    private async Task<QuarantineEntry?> GiveUpAsync(ParkedEvent parked, Exception refusal)
    {
        if (Failures.IsTransient(refusal)) return null;
        var blamed = ExchangeCheck.IsNotFound(refusal)
            ? await exchanges.BlameAsync(parked.Envelope, CancellationToken.None)
            : null;
        var (count, firstFailedAt) = attempts.Fail(parked.Seq, DateTimeOffset.UtcNow);
        if (blamed is null && count < PoisonGuard.MaxAttempts) return null;
        attempts.Forget(parked.Seq);
        return QuarantineEntry.Event(
            QuarantineSources.Unhandled,
            parked.Envelope,
            parked.Body,
            new PoisonFailure(blamed ?? refusal, count, firstFailedAt)) with
        {
            Queue = "unhandled_events",
        };
    }

    private void Quarantined(QuarantineEntry entry, long id)
    {
        statuses.Record(EventStatusUpdate.Quarantined(entry, id));
        logger.LogWarning("Parked event {EventId} of {Canvas}/{Worker} was quarantined as item {QuarantineId} after " +
            "{Attempts} refusals: {Error}",
            entry.EventId, entry.Canvas, entry.Worker, id, entry.Attempts, entry.Error);
    }
}
