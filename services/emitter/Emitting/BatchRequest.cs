using System.Text.Json;
using Workq.Shared;
using Workq.Shared.Handlers;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Emitter.Emitting;

/// <summary>
/// A batch's creation (API.md "Batches"): <c>{"events": [...], "onComplete"?, "onSuccess"?, "open"?,
/// "idempotencyKey"?}</c>. The events are a batch emit's items, read by <see cref="EventBatch"/> from their slice of
/// the body; each callback is <c>{"worker", "event"}</c>, its event kept as bytes.
/// </summary>
public sealed record BatchRequest(
    List<BatchItem> Events,
    BatchCallback? OnComplete,
    BatchCallback? OnSuccess,
    bool Open,
    string? IdempotencyKey)
{
    public static (BatchRequest? Request, BatchParse Problem) Parse(
        ReadOnlyMemory<byte> body,
        int maxEventBytes,
        DateTimeOffset now)
    {
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { MaxDepth = 256 });
        BatchParse? events = null;
        BatchCallback? onComplete = null, onSuccess = null;
        var open = false;
        string? key = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return Invalid("The body must be a JSON object with \"events\": an array of {\"worker\", \"event\"} " +
                    "items.");
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                if (reader.ValueTextEquals("events"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                        return Invalid("\"events\" must be an array of {\"worker\", \"event\"} items.");
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    events = EventBatch.Parse(body[start..(int)reader.BytesConsumed], maxEventBytes, now,
                        allowEmpty: true, members: true);
                    if (events.Value.Items is null) return (null, events.Value);
                }
                else if (reader.ValueTextEquals("onComplete"u8) || reader.ValueTextEquals("onSuccess"u8))
                {
                    var name = reader.ValueTextEquals("onComplete"u8)
                        ? BatchCallbacks.OnComplete
                        : BatchCallbacks.OnSuccess;
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null) continue;
                    var (callback, problem) = Callback(ref reader, body, name, maxEventBytes);
                    if (problem is not null) return (null, problem.Value);
                    if (name == BatchCallbacks.OnComplete) onComplete = callback;
                    else onSuccess = callback;
                }
                else if (reader.ValueTextEquals("open"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
                        return Invalid("\"open\" must be true or false.");
                    open = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("idempotencyKey"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null) continue;
                    if (reader.TokenType != JsonTokenType.String)
                        return Invalid("\"idempotencyKey\" must be a string.");
                    key = TenantText.GetString(ref reader);
                    if (IdempotencyKeys.Problem(key) is { } keyProblem) return Invalid(keyProblem);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            return Invalid($"The body is not valid JSON: {e.Message}");
        }
        // A property name holding a lone surrogate (an escape the reader cannot compare as text).
        catch (InvalidOperationException e)
        {
            return Invalid($"The body holds text that is not valid Unicode: {e.Message}");
        }
        if (events is null) return Invalid("\"events\" is missing: give an array of {\"worker\", \"event\"} items " +
            "(it may be empty for an open batch).");
        return (new BatchRequest(events.Value.Items!, onComplete, onSuccess, open, key), default);
    }

    private static (BatchCallback?, BatchParse?) Callback(
        ref Utf8JsonReader reader,
        ReadOnlyMemory<byte> body,
        string name,
        int maxEventBytes)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            return (null, BatchParse.Invalid($"\"{name}\" must be an object {{\"worker\", \"event\"}} or null."));
        string? worker = null;
        byte[]? evt = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("worker"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                    return (null, BatchParse.Invalid($"\"{name}\": \"worker\" must be a string."));
                worker = TenantText.GetString(ref reader);
            }
            else if (reader.ValueTextEquals("event"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                var end = (int)reader.BytesConsumed;
                if (end - start > maxEventBytes) return (null, new BatchParse(
                    null,
                    $"\"{name}\": the event is larger than {maxEventBytes} bytes (WORKQ_MAX_EVENT_BYTES).",
                    EventTooLarge: true));
                evt = body[start..end].ToArray();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (!Names.IsValid(worker))
            return (null, BatchParse.Invalid($"\"{name}\": invalid worker name '{worker}': use {Names.Rule}."));
        // A callback without an event gets JSON null, as an emit of null would.
        return (new BatchCallback(worker!, evt ?? "null"u8.ToArray()), null);
    }

    private static (BatchRequest?, BatchParse) Invalid(string error) => (null, BatchParse.Invalid(error));
}
