using MassTransit;
using Workq.Shared.Configuration;
using Workq.Shared.ControlPlane;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.Parking;

/// <summary>
/// Replays parked events into a worker's queue as soon as the worker exists (told by the control
/// plane, and checked every two seconds in case a message was missed), and keeps the parked and
/// dead-letter lists within their bounds.
/// </summary>
public sealed class UnhandledReplayer(UnhandledStore unhandled, DeadLetterStore deadLetters, EventPublisher publisher, WorkqOptions options,
    ILogger<UnhandledReplayer> logger) : BackgroundService
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim wake = new(0, 1);

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
                    replayed = await unhandled.ReplayAsync(e => publisher.PublishAsync(e.Envelope, e.Body, stoppingToken), stoppingToken);
                    if (replayed > 0) logger.LogInformation("Replayed {Count} parked events into their new workers' queues", replayed);
                } while (replayed > 0);
                await unhandled.TrimAsync(options.UnhandledMaxPerWorker, stoppingToken);
                await deadLetters.TrimAsync(options.DeadLettersMaxPerWorker, stoppingToken);
            }
            catch (QueueFullException full)
            {
                logger.LogWarning("Replaying parked events paused: the queue of {Canvas}/{Worker} is full; its events stay parked and are replayed once it drains",
                    full.Canvas, full.Worker);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Replaying parked events failed; retrying shortly");
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
}

/// <summary>A worker was created or changed: its parked events may be waiting.</summary>
public sealed class ReplayOnWorkerChanged(UnhandledReplayer replayer) : IConsumer<WorkerChanged>
{
    public Task Consume(ConsumeContext<WorkerChanged> context)
    {
        replayer.Wake();
        return Task.CompletedTask;
    }
}
