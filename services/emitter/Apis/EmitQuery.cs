using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Primitives;
using Microsoft.OpenApi;
using Workq.Emitter.Emitting;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Http;
using Workq.Shared.Messaging;

namespace Workq.Emitter.Apis;

/// <summary>
/// The query parameters and the <c>Idempotency-Key</c> header of a single emit, bound with <c>[AsParameters]</c> as
/// text:
/// <see cref="ParseIdempotencyKey"/>, <see cref="ParseSchedule"/>, <see cref="ParseDebounce"/> and
/// <see cref="ParsePriority"/> read them and name the one that is bad.
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
    StringValues? IdempotencyKey,
    [property: FromQuery(Name = "debounceKey"), MaxLength(OrderingKeys.MaxLength)]
    [property: Description("Collapse the emits to the worker with this key within debounceSeconds into one run.")]
    string? DebounceKey = null,
    [property: FromQuery(Name = "debounceSeconds"), ParsedAs(JsonSchemaType.Number), Range(0, 86_400)]
    [property: Description("The debounce period, over 0 and at most a day.")]
    string? DebounceSeconds = null,
    [property: FromQuery(Name = "debounceMode")]
    [property: Description("trailing (the default: the last emit runs, a period after it) or leading (the first " +
        "runs at once, the rest of the period is dropped).")]
    string? DebounceMode = null,
    [property: FromQuery(Name = "debounceMaxSeconds"), ParsedAs(JsonSchemaType.Number), Range(0, 2_592_000)]
    [property: Description("How long trailing may hold the run back at most, from the first emit (default: ten " +
        "periods).")]
    string? DebounceMaxSeconds = null,
    [property: FromQuery(Name = "priority")]
    [property: Description("high, normal (the default) or low: a waiting high event of the worker starts before any " +
        "waiting normal one, and normal before low.")]
    string? Priority = null)
{
    /// <summary>The emit's priority, or the problem naming the parameter.</summary>
    public (Priority Priority, string? Problem) ParsePriority() =>
        Priorities.Parse(Priority) is { } priority
            ? (priority, null)
            : (default, $"priority must be {Priorities.Rule}.");

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
    /// The emit's debounce (null: none), or the problem naming its parameter; a debounce does not take a time of its
    /// own.
    /// </summary>
    public (Debounce? Debounce, string? Problem) ParseDebounce()
    {
        double? seconds = null, maxSeconds = null;
        if (DebounceSeconds is not null)
        {
            if (!double.TryParse(DebounceSeconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
                return (null, "debounceSeconds must be a number of seconds.");
            seconds = parsed;
        }
        if (DebounceMaxSeconds is not null)
        {
            if (!double.TryParse(DebounceMaxSeconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
                return (null, "debounceMaxSeconds must be a number of seconds.");
            maxSeconds = parsed;
        }
        var (debounce, problem) = Debounces.Parse(DebounceKey, seconds, DebounceMode, maxSeconds);
        if (debounce is not null && (DelaySeconds is not null || RunAt is not null))
            return (null, Debounces.NoTime);
        return (debounce, problem);
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
