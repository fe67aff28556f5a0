using System.Collections.Concurrent;
using System.Text;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Worker.Settling;

/// <summary>
/// Publishes what settling an unkeyed delivery needs (<see cref="Settlement.Decide"/> decides what): a failed run's
/// retry through a delay queue whose TTL is the backoff, a crash suspect's copy, or the dead letter with its reason.
/// Each publish is confirmed before the original delivery is acked.
/// </summary>
public sealed class RetryScheduler(IRetryBroker broker)
{
    private const int MaxReasonLength = 2_000;
    private readonly ConcurrentDictionary<int, Task> declaredDelays = new();

    /// <summary>
    /// Publishes what an unkeyed delivery's settlement needs before the delivery is acked: the copy that runs again
    /// (through a delay queue for a backoff, marked when it is to run alone as a crash suspect), or the dead letter.
    /// </summary>
    public Task PublishAsync(Settlement settlement, EventEnvelope envelope, ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken) =>
        settlement.Verdict switch
        {
            SettleVerdict.RunAgain => PublishAgainAsync(envelope, settlement.Attempt, settlement.Delay,
                settlement.Suspect ? Encoding.UTF8.GetBytes(Cut(settlement.Reason ?? "")) : null, body,
                cancellationToken),
            SettleVerdict.DeadLetter =>
                DeadLetterAsync(envelope, settlement.Attempt, settlement.Reason ?? "", body, cancellationToken),
            _ => Task.CompletedTask,
        };

    /// <summary>
    /// Puts an event that never started (it waited for a rate-limit token when its consumer stopped) back in its queue
    /// as it was: same attempt, a crash-suspect mark kept. Giving the delivery back instead would count as a delivery
    /// attempt.
    /// </summary>
    public Task RequeueUnrunAsync(EventEnvelope envelope, int attempt, byte[]? suspect, ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken) =>
        PublishAgainAsync(envelope, attempt, TimeSpan.Zero, suspect, body, cancellationToken);

    /// <summary>
    /// A copy of the event, as <paramref name="attempt"/>, to its worker's queue (for a high or low one, the worker's
    /// queue for its priority): straight through the retry exchange,
    /// or through the delay queue whose TTL is <paramref name="delay"/> (no timer in memory holds it, so it survives
    /// any restart).
    /// </summary>
    private async Task PublishAgainAsync(EventEnvelope envelope, int attempt, TimeSpan delay, byte[]? suspect,
        ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var properties = EventHeaders.Create(envelope, attempt);
        if (suspect is not null) properties.Headers![EventHeaders.CrashSuspect] = suspect;
        var queue = envelope.Priority == Priority.Normal
            ? Topology.WorkerQueue(envelope.Canvas, envelope.Worker)
            : Topology.PriorityQueue(envelope.Canvas, envelope.Worker, envelope.Priority);
        var seconds = (int)delay.TotalSeconds;
        if (seconds == 0)
        {
            await broker.PublishAsync(Topology.RetryExchange, queue, envelope, properties, body, cancellationToken);
            return;
        }
        await declaredDelays.GetOrAdd(seconds, s => broker.DeclareDelayAsync(s, CancellationToken.None));
        await broker.PublishAsync(Topology.DelayQueue(seconds), queue, envelope, properties, body,
            cancellationToken);
    }

    /// <summary>
    /// Passes a delivery that is no event (its message id is no event id) to the dead letters as it came, with the
    /// reason, without running it: the dispatcher's check then moves it whole to the quarantine (docs/DESIGN.md
    /// "Quarantine").
    /// </summary>
    public async Task DeadLetterUnreadableAsync(
        string canvas,
        string worker,
        RabbitMQ.Client.IReadOnlyBasicProperties properties,
        string reason,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, object?>(properties.Headers ?? new Dictionary<string, object?>())
        {
            [EventHeaders.DeadLetterReason] = Encoding.UTF8.GetBytes(reason),
        };
        var copy = new RabbitMQ.Client.BasicProperties(properties) { Headers = headers };
        var envelope = new EventEnvelope(Guid.Empty, canvas, worker, DateTimeOffset.UtcNow, 0, null);
        await broker.PublishAsync(Topology.DeadLetterExchange, worker, envelope, copy, body, cancellationToken);
    }

    /// <summary>
    /// Publishes the event to the dead letters with the reason, confirmed, before its delivery is acked.
    /// </summary>
    public async Task DeadLetterAsync(
        EventEnvelope envelope,
        int attempt,
        string reason,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        var deadLetter = EventHeaders.Create(envelope, attempt);
        deadLetter.Headers![EventHeaders.DeadLetterReason] = Encoding.UTF8.GetBytes(Cut(reason));
        deadLetter.Headers[EventHeaders.Attempts] = attempt;
        await broker.PublishAsync(
            Topology.DeadLetterExchange,
            envelope.Worker,
            envelope,
            deadLetter,
            body,
            cancellationToken);
    }

    private static string Cut(string reason) => reason.Length > MaxReasonLength ? reason[..MaxReasonLength] : reason;
}
