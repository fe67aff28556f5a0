using System.Text.Json;
using Workq.Shared;
using Workq.Shared.Handlers;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.Emitter.Emitting;

/// <summary>
/// Parses <c>[{"worker", "event", "idempotencyKey"?, "delaySeconds"?, "runAt"?, "orderingKey"?, "debounceKey"?,
/// "debounceSeconds"?, "debounceMode"?, "debounceMaxSeconds"?}]</c> with a
/// forward-only reader, rejecting the whole batch on the first bad item.
/// </summary>
public static class EventBatch
{
    public const int MaxItems = 1_000;

    /// <param name="now">What <c>delaySeconds</c> counts from and <c>runAt</c> is checked against.</param>
    /// <param name="allowEmpty">An empty array is a batch of none (a batch's events), not a 400.</param>
    /// <param name="members">The items join a batch: a debounced one is refused (it may be another emit's run).</param>
    public static BatchParse Parse(ReadOnlyMemory<byte> body, int maxEventBytes, DateTimeOffset now,
        bool allowEmpty = false, bool members = false)
    {
        var reader = new Utf8JsonReader(
            body.Span,
            new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 });
        try
        {
            if (!reader.Read()) return BatchParse.Invalid(
                "The body is empty; send a JSON array of {\"worker\", \"event\"} items.");
            if (reader.TokenType != JsonTokenType.StartArray) return BatchParse.Invalid(
                "The body must be a JSON array of {\"worker\", \"event\"} items.");
            var items = new List<BatchItem>();
            string? previousWorker = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var index = items.Count;
                if (index == MaxItems) return BatchParse.Invalid($"A batch holds at most {MaxItems} items.");
                if (reader.TokenType != JsonTokenType.StartObject) return BatchParse.Invalid(
                    $"Item {index} must be an object with \"worker\" and \"event\".");
                string? worker = null, key = null, runAt = null, orderingKey = null, debounceKey = null,
                    debounceMode = null;
                var priority = Priority.Normal;
                double? delaySeconds = null, debounceSeconds = null, debounceMaxSeconds = null;
                ReadOnlyMemory<byte>? evt = null;
                var seen = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    // Names compared as bytes, and a worker named like the previous item's reuses its string: no
                    // allocation per item for either.
                    var field = Field(ref reader);
                    // A field given twice is ambiguous (which one would win?).
                    if (field > 0 && (seen & (1 << field)) != 0) return BatchParse.Invalid(
                        $"Item {index}: \"{Fields[field]}\" is given twice.");
                    seen |= 1 << field;
                    if (field == 1)
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.String) return BatchParse.Invalid(
                            $"Item {index}: \"worker\" must be a string.");
                        worker = previousWorker is not null && reader.ValueTextEquals(previousWorker)
                            ? previousWorker
                            : TenantText.GetString(ref reader);
                    }
                    else if (field == 2)
                    {
                        reader.Read();
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        var end = (int)reader.BytesConsumed;
                        if (end - start > maxEventBytes) return new BatchParse(
                            null,
                            $"Item {index}: the event is larger than {maxEventBytes} bytes (WORKQ_MAX_EVENT_BYTES).",
                            EventTooLarge: true);
                        evt = body[start..end];
                    }
                    else if (field == 3)
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.Null) continue;
                        if (reader.TokenType != JsonTokenType.String) return BatchParse.Invalid(
                            $"Item {index}: \"idempotencyKey\" must be a string.");
                        key = TenantText.GetString(ref reader);
                        if (IdempotencyKeys.Problem(key) is { } keyProblem) return BatchParse.Invalid(
                            $"Item {index}: {keyProblem}");
                    }
                    else if (field == 4)
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.Null) continue;
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var seconds))
                            return BatchParse.Invalid($"Item {index}: \"delaySeconds\" must be a number of seconds.");
                        delaySeconds = seconds;
                    }
                    else if (field == 5)
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.Null) continue;
                        if (reader.TokenType != JsonTokenType.String) return BatchParse.Invalid(
                            $"Item {index}: \"runAt\" must be an ISO 8601 string.");
                        runAt = TenantText.GetString(ref reader);
                    }
                    else if (field == 6)
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.Null) continue;
                        if (reader.TokenType != JsonTokenType.String) return BatchParse.Invalid(
                            $"Item {index}: \"orderingKey\" must be a string.");
                        orderingKey = TenantText.GetString(ref reader);
                        if (OrderingKeys.Problem(orderingKey) is { } orderingProblem) return BatchParse.Invalid(
                            $"Item {index}: \"orderingKey\": {orderingProblem}");
                    }
                    else if (field is 7 or 9)
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.Null) continue;
                        if (reader.TokenType != JsonTokenType.String) return BatchParse.Invalid(
                            $"Item {index}: \"{Fields[field]}\" must be a string.");
                        if (field == 7) debounceKey = TenantText.GetString(ref reader);
                        else debounceMode = TenantText.GetString(ref reader);
                    }
                    else if (field is 8 or 10)
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.Null) continue;
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var seconds))
                            return BatchParse.Invalid(
                                $"Item {index}: \"{Fields[field]}\" must be a number of seconds.");
                        if (field == 8) debounceSeconds = seconds;
                        else debounceMaxSeconds = seconds;
                    }
                    else if (field == 11)
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.Null) continue;
                        if (reader.TokenType != JsonTokenType.String
                            || Priorities.Parse(TenantText.GetString(ref reader)) is not { } given)
                            return BatchParse.Invalid($"Item {index}: \"priority\" must be {Priorities.Rule}.");
                        priority = given;
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
                if (!Names.IsValid(worker)) return BatchParse.Invalid(
                    $"Item {index}: invalid worker name '{worker}': use {Names.Rule}.");
                if (evt is null) return BatchParse.Invalid(
                    $"Item {index}: \"event\" is missing (use null for an empty event).");
                var (at, timeProblem) = delaySeconds is null && runAt is null
                    ? (null, null)
                    : EmitTime.Resolve(delaySeconds, runAt, now);
                if (timeProblem is not null) return BatchParse.Invalid($"Item {index}: {timeProblem}");
                var (debounce, debounceProblem) =
                    Debounces.Parse(debounceKey, debounceSeconds, debounceMode, debounceMaxSeconds);
                if (debounceProblem is not null) return BatchParse.Invalid($"Item {index}: {debounceProblem}");
                if (debounce is not null && at is not null)
                    return BatchParse.Invalid($"Item {index}: {Debounces.NoTime}");
                if (debounce is not null && members) return BatchParse.Invalid(
                    $"Item {index}: a batch's events cannot be debounced: a debounced emit may become another emit's " +
                    "run, which the batch would then wait for.");
                items.Add(new BatchItem(worker!, evt.Value, key, at, orderingKey, debounce, priority));
                previousWorker = worker;
            }
            reader.Read();
            if (items.Count == 0 && !allowEmpty) return BatchParse.Invalid("The batch is empty.");
            return new BatchParse(items, null);
        }
        catch (JsonException e)
        {
            return BatchParse.Invalid($"The body is not valid JSON: {e.Message}");
        }
        // A property name holding a lone surrogate (an escape the reader cannot compare as text).
        catch (InvalidOperationException e)
        {
            return BatchParse.Invalid($"The body holds text that is not valid Unicode: {e.Message}");
        }
    }

    /// <summary>
    /// The fields of an item, by the number <see cref="Field"/> gives them (0: one it does not take).
    /// </summary>
    private static readonly string[] Fields = ["", "worker", "event", "idempotencyKey", EmitTime.Delay, EmitTime
        .RunAt, "orderingKey", "debounceKey", "debounceSeconds", "debounceMode", "debounceMaxSeconds", "priority"];

    private static int Field(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("worker"u8) ? 1
        : reader.ValueTextEquals("event"u8) ? 2
        : reader.ValueTextEquals("idempotencyKey"u8) ? 3
        : reader.ValueTextEquals("delaySeconds"u8) ? 4
        : reader.ValueTextEquals("runAt"u8) ? 5
        : reader.ValueTextEquals("orderingKey"u8) ? 6
        : reader.ValueTextEquals("debounceKey"u8) ? 7
        : reader.ValueTextEquals("debounceSeconds"u8) ? 8
        : reader.ValueTextEquals("debounceMode"u8) ? 9
        : reader.ValueTextEquals("debounceMaxSeconds"u8) ? 10
        : reader.ValueTextEquals("priority"u8) ? 11
        : 0;

    /// <summary>Checks that the body is exactly one well-formed JSON value, without building a document.</summary>
    public static string? ValidateSingle(ReadOnlySpan<byte> body)
    {
        if (body.Trim(" \t\r\n"u8).IsEmpty) return "The body is empty; send the event as a JSON value (null is fine).";
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            reader.Read();
            reader.Skip();
            // The reader itself refuses anything but white space after the value.
            reader.Read();
            return null;
        }
        catch (JsonException e)
        {
            return $"The body is not valid JSON: {e.Message}";
        }
    }
}
