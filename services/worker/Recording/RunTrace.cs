using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;
using Workq.Shared.Storage;
using Workq.Worker.Consuming;

namespace Workq.Worker.Recording;

/// <summary>A result a runner process already turned into the trace's JSON (<see cref="JsonResult.ToTraceJson"/>), as UTF-8.</summary>
public sealed class TraceResult(byte[] json)
{
    /// <summary>What most handlers return: one instance, so that a run returning nothing allocates nothing for it.</summary>
    public static readonly TraceResult Null = new("null"u8.ToArray());

    public byte[] Json => json;

    public static TraceResult From(ReadOnlySpan<byte> json) => json.IsEmpty || json.SequenceEqual("null"u8) ? Null : new(json.ToArray());
}

/// <summary>What a finished run leaves for its trace. Cheap to keep; turned into JSON only if it is among the last N kept.</summary>
public sealed record RunTrace(EventEnvelope Envelope, int Version, int Attempt, byte[] Body, RunOutcome Outcome, object? Result,
    JsonSerializerOptions? ResultOptions, string? ErrorType, string? ErrorMessage, IReadOnlyList<EmittedEvent> Emitted,
    IReadOnlyList<string> Logs, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, TimeSpan Duration)
{
    public TraceEntry ToEntry() => new(Envelope.Canvas, Envelope.Worker, Envelope.Id, FinishedAt, Write());

    /// <summary>The trace object of API.md.</summary>
    private string Write()
    {
        var buffer = new ArrayBufferWriter<byte>(256 + Body.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("eventId", Envelope.Id);
            writer.WriteString("status", Outcome switch
            {
                RunOutcome.Completed => "completed",
                RunOutcome.TimedOut => "timedOut",
                RunOutcome.Cancelled => "cancelled",
                _ => "failed",
            });
            writer.WriteString("canvas", Envelope.Canvas);
            writer.WriteString("worker", Envelope.Worker);
            writer.WriteNumber("version", Version);
            writer.WritePropertyName("event");
            WriteRawOrString(writer, Body);
            writer.WritePropertyName("result");
            WriteResult(writer, Result, ResultOptions);
            writer.WritePropertyName("error");
            if (ErrorType is null) writer.WriteNullValue();
            else
            {
                writer.WriteStartObject();
                writer.WriteString("type", ErrorType);
                writer.WriteString("message", ErrorMessage);
                writer.WriteEndObject();
            }
            writer.WriteNumber("attempt", Attempt);
            writer.WriteNumber("depth", Envelope.Depth);
            if (Envelope.OrderingKey is not null) writer.WriteString("orderingKey", Envelope.OrderingKey);
            writer.WriteString("enqueuedAt", Envelope.EnqueuedAt);
            writer.WriteString("startedAt", StartedAt);
            writer.WriteString("finishedAt", FinishedAt);
            writer.WriteNumber("queueWaitMs", Math.Round(Math.Max(0, (StartedAt - Envelope.EnqueuedAt).TotalMilliseconds), 3));
            writer.WriteNumber("durationMs", Math.Round(Duration.TotalMilliseconds, 3));
            writer.WriteStartArray("emitted");
            foreach (var child in Emitted)
            {
                writer.WriteStartObject();
                writer.WriteString("worker", child.Worker);
                writer.WriteString("id", child.Id);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("logs");
            foreach (var line in Logs) writer.WriteStringValue(line);
            writer.WriteEndArray();
            writer.WriteString("traceId", TraceId(Envelope.TraceParent));
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The result as the event's status keeps it: JSON text capped like the trace's, or null when the handler returned nothing.</summary>
    public static string? StatusResult(object? result, JsonSerializerOptions? options)
    {
        if (result is TraceResult { Json: var json })
        {
            if (ReferenceEquals(result, TraceResult.Null)) return null;
            // Written by a runner, which holds hostile code: anything that is not one JSON value is kept as a string.
            // Too long whatever it holds (a UTF-8 character is at most 4 bytes): not even decoded.
            if (json.Length > JsonResult.MaxTraceResultChars * 4) return JsonResult.TooLong(json.Length);
            var text = Encoding.UTF8.GetString(json);
            return JsonResult.Capped(IsJson(json) ? text : JsonSerializer.Serialize(text));
        }
        return result is null ? null : JsonResult.ToTraceJson(result, options);
    }

    private static bool IsJson(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            reader.Read();
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void WriteResult(Utf8JsonWriter writer, object? result, JsonSerializerOptions? options)
    {
        if (result is TraceResult { Json: var json })
        {
            // Written by a runner, which holds hostile code: checked, so that it cannot reshape the trace around it.
            WriteRawOrString(writer, json);
            return;
        }
        writer.WriteRawValue(JsonResult.ToTraceJson(result, options), skipInputValidation: true);
    }

    private static void WriteRawOrString(Utf8JsonWriter writer, ReadOnlySpan<byte> json)
    {
        try
        {
            writer.WriteRawValue(json);
        }
        catch (Exception e) when (e is ArgumentException or JsonException)
        {
            writer.WriteStringValue(Encoding.UTF8.GetString(json));
        }
    }

    private static string? TraceId(string? traceParent) =>
        traceParent is { Length: 55 } && traceParent[2] == '-' ? traceParent.Substring(3, 32) : null;
}
