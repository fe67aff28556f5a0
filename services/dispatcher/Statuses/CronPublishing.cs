using Workq.Shared.Storage;

namespace Workq.Dispatcher.Statuses;

/// <summary>A cron's event is an ordinary event: queued once the broker confirmed it.</summary>
public static class CronPublishing
{
    public static Crons.PublishEvent RecordingQueued(
        Shared.Messaging.EventPublisher publisher,
        EventStatusRecorder statuses) =>
        async (envelope, body, cancellationToken) =>
        {
            await publisher.PublishAsync(envelope, body, cancellationToken);
            statuses.Record(EventStatusUpdate.Queued(envelope));
        };
}
