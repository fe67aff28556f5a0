using System.Text.Json;
using RabbitMQ.Client;
using Workq.Shared;
using Workq.Shared.Messaging;
using Workq.Shared.Poison;

namespace Workq.Dispatcher.UnhandledAndDeadLetters;

/// <summary>
/// What an event on the unhandled or dead-letter queue must be before it is kept: what Workq publishes there. Anything
/// else (a message id that is no event id, a missing or bad canvas or worker, a header of the wrong type, a body that
/// is not JSON or is larger than any event) is poison, whoever put it there: it goes to the quarantine at once.
/// </summary>
public static class ParkedEventCheck
{
    private static readonly string[] NumberHeaders = [EventHeaders.EnqueuedAt, EventHeaders.Depth, EventHeaders
        .Attempt, EventHeaders.Attempts,
        EventHeaders.DeliveryCount];
    private static readonly JsonReaderOptions Json = new() { MaxDepth = 256 };

    /// <param name="worker">The worker the event is for: its header, or the routing key it was published with.</param>
    /// <exception cref="PoisonMessageException">The message is not an event.</exception>
    public static EventEnvelope Read(
        IReadOnlyBasicProperties properties,
        string? worker,
        ReadOnlySpan<byte> body,
        int maxEventBytes)
    {
        if (!Guid.TryParse(properties.MessageId, out _))
            throw new PoisonMessageException(
                $"The message id {Quote(properties.MessageId)} is not an event id (a GUID).");
        var canvas = EventHeaders.String(properties.Headers, EventHeaders.Canvas);
        if (!Names.IsValid(canvas)) throw new PoisonMessageException(
            $"The {EventHeaders.Canvas} header {Quote(canvas)} is not a canvas name.");
        if (!Names.IsValid(worker)) throw new PoisonMessageException(
            $"The worker {Quote(worker)} (its header, or the routing key) is not a worker name.");
        foreach (var header in NumberHeaders)
        {
            if (properties.Headers?.TryGetValue(header, out var value) == true
                && EventHeaders.Long(properties.Headers, header) is null)
                throw new PoisonMessageException(
                    $"The {header} header is not a whole number (it is {value?.GetType().Name ?? "null"}).");
        }
        if (body.Length > maxEventBytes)
            throw new PoisonMessageException(
                $"The body of {body.Length} bytes is larger than any event (WORKQ_MAX_EVENT_BYTES = {maxEventBytes}).");
        if (!IsJson(body)) throw new PoisonMessageException("The body is not JSON.");
        return EventHeaders.Read(properties, canvas!, worker!);
    }

    private static bool IsJson(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, Json);
        try
        {
            while (reader.Read())
            {
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Quote(string? value)
        => value is null ? "(none)" : $"'{(value.Length <= 80 ? value : value[..80] + "…")}'";
}
