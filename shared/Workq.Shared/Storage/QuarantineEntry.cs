using System.Text.Json.Nodes;
using Workq.Shared.Handlers;
using Workq.Shared.Poison;

namespace Workq.Shared.Storage;

/// <summary>A message to quarantine: the whole message (body and properties) and why it was given up on.</summary>
public sealed record QuarantineEntry(
    string Source,
    RedriveKind Redrive,
    ReadOnlyMemory<byte> Body,
    JsonObject Properties,
    string Error,
    int Attempts,
    DateTimeOffset FirstFailedAt)
{
    public string? Queue { get; init; }
    public string? Exchange { get; init; }
    public string? RoutingKey { get; init; }
    public string? Canvas { get; init; }
    public string? Worker { get; init; }
    public Guid? EventId { get; init; }

    /// <summary>
    /// A broker message, to be published again where it was (<paramref name="exchange"/>, <paramref
    /// name="routingKey"/>). The canvas, worker and event id are taken from its headers where they are valid, so an
    /// operator can find it by them.
    /// </summary>
    public static QuarantineEntry Delivery(
        string source,
        string queue,
        string exchange,
        string routingKey,
        RabbitMQ.Client.IReadOnlyBasicProperties properties,
        ReadOnlyMemory<byte> body,
        PoisonFailure failure)
    {
        var canvas = Messaging.EventHeaders.String(properties.Headers, Messaging.EventHeaders.Canvas);
        var worker = Messaging.EventHeaders.String(properties.Headers, Messaging.EventHeaders.Worker);
        return new(
            source,
            RedriveKind.Publish,
            body,
            MessageCodec.Encode(properties),
            Failures.Describe(failure.Error),
            failure.Attempts,
            failure.FirstFailedAt)
        {
            Queue = queue,
            Exchange = exchange,
            RoutingKey = routingKey,
            Canvas = Names.IsValid(canvas) ? canvas : null,
            Worker = Names.IsValid(worker) ? worker : null,
            EventId = Guid.TryParse(properties.MessageId, out var id) ? id : null,
        };
    }

    /// <summary>
    /// An event that could not be published (a delayed emit, a cron's tick): a redrive publishes it to its worker.
    /// </summary>
    public static QuarantineEntry Event(
        string source,
        Messaging.EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        PoisonFailure failure) =>
        new(
            source,
            RedriveKind.Emit,
            body,
            MessageCodec.Encode(Messaging.EventHeaders.Create(envelope)),
            Failures.Describe(failure.Error),
            failure.Attempts,
            failure.FirstFailedAt)
        {
            Exchange = Messaging.Topology.CanvasExchange(envelope.Canvas),
            RoutingKey = envelope.Worker,
            Canvas = envelope.Canvas,
            Worker = envelope.Worker,
            EventId = envelope.Id,
        };

    /// <summary>A row of a flush that PostgreSQL refused, kept as its JSON.</summary>
    public static QuarantineEntry Row<T>(
        string source,
        T row,
        Exception error,
        string? canvas,
        string? worker,
        Guid? eventId) =>
        new(source, RedriveKind.None, RowJson(row), [], Failures.Describe(error), 1, DateTimeOffset.UtcNow)
        {
            Canvas = canvas,
            Worker = worker,
            EventId = eventId,
        };

    private static byte[] RowJson<T>(T row)
    {
        try
        {
            return System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(row, JsonDefaults.Web);
        }
        catch (ArgumentException)
        {
            // Text that is not UTF-16 (a lone surrogate) has no JSON: the row as text, cleaned, rather than nothing.
            return System.Text.Encoding.UTF8.GetBytes(MessageCodec.Clean(row?.ToString() ?? ""));
        }
    }
}
