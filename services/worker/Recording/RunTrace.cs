using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Workq.Shared.Handlers;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Worker.Runs;

namespace Workq.Worker.Recording;

/// <summary>
/// What a finished run leaves for its trace, its result, error and logs already held to WORKQ_MAX_TRACE_BYTES (<see
/// cref="TraceBudget"/>). Cheap to keep; turned into JSON only if it is among the last N kept.
/// </summary>
public sealed record RunTrace(
    EventEnvelope Envelope,
    int Version,
    int Attempt,
    byte[] Body,
    RunOutcome Outcome,
    KeptRun Kept,
    IReadOnlyList<EmittedEvent> Emitted,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    TimeSpan Duration,
    IReadOnlyList<StepTrace>? Steps = null,
    Suspension? Suspension = null)
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
                RunOutcome.Suspended when Suspension is { } suspension => suspension.Status,
                _ => "failed",
            });
            writer.WriteString("canvas", Envelope.Canvas);
            writer.WriteString("worker", Envelope.Worker);
            writer.WriteNumber("version", Version);
            // The trace's copy of the event is read by the tenant-text rule, so that every reader of the trace can read
            // it.
            writer.WritePropertyName("event");
            WriteRawOrString(writer, TenantText.Json(Body));
            // Checked JSON (a runner's) or serialized here: written as it is.
            writer.WritePropertyName("result");
            writer.WriteRawValue(Kept.ResultJson ?? "null", skipInputValidation: true);
            writer.WritePropertyName("error");
            if (Kept.ErrorType is null) writer.WriteNullValue();
            else
            {
                writer.WriteStartObject();
                writer.WriteString("type", Kept.ErrorType);
                writer.WriteString("message", Kept.ErrorMessage);
                writer.WriteEndObject();
            }
            writer.WriteNumber("attempt", Attempt);
            writer.WriteNumber("resume", Envelope.Resume);
            if (Suspension is { } until)
            {
                writer.WriteString("runAt", until.Until);
                if (until.WaitName is not null) writer.WriteString("waitingFor", until.WaitName);
            }
            writer.WriteNumber("depth", Envelope.Depth);
            writer.WriteString("priority", Priorities.Name(Envelope.Priority));
            if (Envelope.OrderingKey is not null) writer.WriteString("orderingKey", Envelope.OrderingKey);
            if (Envelope.DebounceKey is not null)
            {
                writer.WriteStartObject("debounce");
                writer.WriteString("key", Envelope.DebounceKey);
                writer.WriteNumber("absorbed", Envelope.Absorbed);
                writer.WriteEndObject();
            }
            writer.WriteString("enqueuedAt", Envelope.EnqueuedAt);
            writer.WriteString("startedAt", StartedAt);
            writer.WriteString("finishedAt", FinishedAt);
            writer.WriteNumber(
                "queueWaitMs",
                Math.Round(Math.Max(0, (StartedAt - Envelope.EnqueuedAt).TotalMilliseconds), 3));
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
            if (Steps is { Count: > 0 })
            {
                writer.WriteStartArray("steps");
                foreach (var step in Steps)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", step.Name);
                    writer.WriteBoolean("replayed", step.Replayed);
                    writer.WriteNumber("durationMs", Math.Round(step.Duration.TotalMilliseconds, 3));
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            }
            writer.WriteStartArray("logs");
            foreach (var line in Kept.Logs) writer.WriteStringValue(line);
            writer.WriteEndArray();
            if (Kept.Truncated.Count > 0)
            {
                writer.WriteStartArray("truncated");
                foreach (var field in Kept.Truncated) writer.WriteStringValue(field);
                writer.WriteEndArray();
            }
            writer.WriteString("traceId", TraceId(Envelope.TraceParent));
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
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
