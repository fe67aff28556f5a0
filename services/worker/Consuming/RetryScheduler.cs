using System.Collections.Concurrent;
using System.Text;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Worker.Consuming;

/// <summary>
/// A worker's opt-in retry policy: a failed run is published again through a delay queue (its TTL
/// is the backoff; no timer in memory holds the event, so a waiting retry survives any restart),
/// and after the last attempt the event goes to the dead letters with the error as the reason.
/// Either publish is confirmed before the original delivery is acked.
/// </summary>
public sealed class RetryScheduler(EventPublisher publisher, Topology topology)
{
    private const int MaxReasonLength = 2_000;
    private readonly ConcurrentDictionary<int, Task> declaredDelays = new();

    public async Task SettleFailureAsync(RetryPolicy policy, EventEnvelope envelope, int attempt, string error, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (attempt < policy.MaxAttempts)
        {
            var seconds = policy.BackoffSeconds.Length == 0 ? 0 : policy.BackoffSeconds[Math.Min(attempt - 1, policy.BackoffSeconds.Length - 1)];
            var properties = EventHeaders.Create(envelope, attempt + 1);
            if (seconds == 0)
            {
                await publisher.PublishAsync(Topology.RetryExchange, Topology.WorkerQueue(envelope.Canvas, envelope.Worker), envelope, properties, body, cancellationToken);
                return;
            }
            await declaredDelays.GetOrAdd(seconds, s => topology.DeclareDelayAsync(s, CancellationToken.None));
            await publisher.PublishAsync(Topology.DelayQueue(seconds), Topology.WorkerQueue(envelope.Canvas, envelope.Worker), envelope, properties, body, cancellationToken);
            return;
        }

        await DeadLetterAsync(envelope, attempt, $"retries exhausted after {attempt} attempts; last error: {error}", body, cancellationToken);
    }

    /// <summary>
    /// Puts an event that was running when its canvas's runner crashed back in its queue, marked as a suspect so that any
    /// worker instance runs it alone next time (confirmed before the delivery is acked; its attempt count goes up).
    /// </summary>
    public async Task RequeueSuspectAsync(EventEnvelope envelope, int attempt, string crash, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var properties = EventHeaders.Create(envelope, attempt + 1);
        properties.Headers![EventHeaders.CrashSuspect] = Encoding.UTF8.GetBytes(crash.Length > MaxReasonLength ? crash[..MaxReasonLength] : crash);
        await publisher.PublishAsync(Topology.RetryExchange, Topology.WorkerQueue(envelope.Canvas, envelope.Worker), envelope, properties, body, cancellationToken);
    }

    /// <summary>
    /// Puts an event that never started (it waited for a rate-limit token when its consumer stopped) back in its queue as it
    /// was: same attempt, a crash-suspect mark kept. Giving the delivery back instead would count as a delivery attempt.
    /// </summary>
    public async Task RequeueUnrunAsync(EventEnvelope envelope, int attempt, byte[]? suspect, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var properties = EventHeaders.Create(envelope, attempt);
        if (suspect is not null) properties.Headers![EventHeaders.CrashSuspect] = suspect;
        await publisher.PublishAsync(Topology.RetryExchange, Topology.WorkerQueue(envelope.Canvas, envelope.Worker), envelope, properties, body, cancellationToken);
    }

    /// <summary>
    /// Passes a delivery that is no event (its message id is no event id) to the dead letters as it came, with the reason, without
    /// running it: the dispatcher's check then moves it whole to the quarantine (docs/DESIGN.md "Quarantine").
    /// </summary>
    public async Task DeadLetterUnreadableAsync(string canvas, string worker, RabbitMQ.Client.IReadOnlyBasicProperties properties, string reason,
        ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, object?>(properties.Headers ?? new Dictionary<string, object?>())
        {
            [EventHeaders.DeadLetterReason] = Encoding.UTF8.GetBytes(reason),
        };
        var copy = new RabbitMQ.Client.BasicProperties(properties) { Headers = headers };
        var envelope = new EventEnvelope(Guid.Empty, canvas, worker, DateTimeOffset.UtcNow, 0, null);
        await publisher.PublishAsync(Topology.DeadLetterExchange, worker, envelope, copy, body, cancellationToken);
    }

    /// <summary>Publishes the event to the dead letters with the reason, confirmed, before its delivery is acked.</summary>
    public async Task DeadLetterAsync(EventEnvelope envelope, int attempt, string reason, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var deadLetter = EventHeaders.Create(envelope, attempt);
        deadLetter.Headers![EventHeaders.DeadLetterReason] = Encoding.UTF8.GetBytes(reason.Length > MaxReasonLength ? reason[..MaxReasonLength] : reason);
        deadLetter.Headers[EventHeaders.Attempts] = attempt;
        await publisher.PublishAsync(Topology.DeadLetterExchange, envelope.Worker, envelope, deadLetter, body, cancellationToken);
    }
}
