using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Primitives;
using Microsoft.OpenApi;
using Workq.Emitter.Emitting;
using Workq.Shared.Http;
using Workq.Shared.Messaging;

namespace Workq.Emitter.Apis;

/// <summary>
/// The query parameters and the <c>Idempotency-Key</c> header of a single emit, bound with <c>[AsParameters]</c> as
/// text:
/// <see cref="ParseIdempotencyKey"/> and <see cref="ParseSchedule"/> read them and names the one that is bad.
/// </summary>
public sealed record EmitQuery(
    [property: FromQuery(Name = EmitTime.Delay), ParsedAs(JsonSchemaType.Number), Range(0, 2_592_000)]
    [property: Description("Run the event this many seconds from now.")]
    string? DelaySeconds,
    [property: FromQuery(Name = EmitTime.RunAt), ParsedAs(JsonSchemaType.String, Format = "date-time")]
    [property: Description("Run the event at this ISO 8601 time with an offset, at most 30 days ahead.")]
    string? RunAt,
    [property: FromQuery(Name = "orderingKey"), MaxLength(OrderingKeys.MaxLength)]
    [property: Description("Run after the worker's earlier events with this key, one at a time.")]
    string? OrderingKey,
    // StringValues, not string: two Idempotency-Key headers are refused by name; a string would join them with a comma.
    [property: FromHeader(Name = IdempotencyKeys.Header), ParsedAs(JsonSchemaType.String)]
    [property: MaxLength(IdempotencyKeys.MaxLength)]
    [property: Description("The same key on the canvas within 24 hours returns the first id.")]
    StringValues? IdempotencyKey)
{
    /// <summary>The one key of the <c>Idempotency-Key</c> header (null: none), or the problem with it.</summary>
    public (string? Key, string? Problem) ParseIdempotencyKey()
    {
        var keys = IdempotencyKey ?? StringValues.Empty;
        if (keys.Count > 1) return (null, $"{IdempotencyKeys.Header} is given {keys.Count} times; it takes one key.");
        var key = keys.FirstOrDefault();
        return IdempotencyKeys.Problem(key) is { } problem
            ? (null, $"{IdempotencyKeys.Header}: {problem}")
            : (key, null);
    }

    /// <summary>
    /// When the event runs (null: now), or the problem naming <c>delaySeconds</c>, <c>runAt</c> or <c>orderingKey</c>.
    /// </summary>
    public (DateTimeOffset? RunAt, string? Problem) ParseSchedule(DateTimeOffset now)
    {
        var (runAt, timeProblem) = EmitTime.FromQuery(DelaySeconds, RunAt, now);
        if (timeProblem is not null) return (null, timeProblem);
        return OrderingKeys.Problem(OrderingKey) is { } orderingProblem
            ? (null, $"orderingKey: {orderingProblem}")
            : (runAt, null);
    }
}
