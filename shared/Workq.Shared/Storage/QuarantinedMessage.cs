using System.Text.Json.Nodes;

namespace Workq.Shared.Storage;

/// <summary>
/// A quarantined message as stored; <c>Body</c> is the whole body, or its first bytes in a list (<c>BodyBytes</c> is
/// its size).
/// </summary>
public sealed record QuarantinedMessage(
    long Id,
    string Source,
    RedriveKind Redrive,
    string? Queue,
    string? Exchange,
    string? RoutingKey,
    string? Canvas,
    string? Worker,
    Guid? EventId,
    string Error,
    int Attempts,
    DateTimeOffset FirstFailedAt,
    DateTimeOffset QuarantinedAt,
    int BodyBytes,
    byte[] Body,
    JsonObject Properties);
