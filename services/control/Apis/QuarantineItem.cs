using System.Text.Json.Nodes;

namespace Workq.Control.Apis;

/// <summary>
/// One quarantined message (API.md "Quarantine"). <c>Body</c> is the body as text when it is UTF-8 (<c>BodyEncoding</c>
/// "utf-8"), else base64; in a list only its first <see cref="QuarantineApi.ListBodyBytes"/> bytes
/// (<c>BodyTruncated</c>).
/// </summary>
public sealed record QuarantineItem(
    long Id,
    string Source,
    string? Queue,
    string? Canvas,
    string? Worker,
    Guid? EventId,
    string Error,
    int Attempts,
    DateTimeOffset FirstFailedAt,
    DateTimeOffset QuarantinedAt,
    string Redrive,
    string? Exchange,
    string? RoutingKey,
    int BodyBytes,
    string Body,
    string BodyEncoding,
    bool BodyTruncated,
    JsonObject Properties);
