using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Workq.Shared;
using Workq.Shared.Configuration;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;
using Workq.Shared.Storage;
using Workq.Worker.Recording;
using Workq.Worker.Telemetry;

namespace Workq.Worker.Consuming;

public enum RunOutcome { Completed, Failed, TimedOut, Cancelled, ShuttingDown }

public readonly record struct RunResult(RunOutcome Outcome, string? Error = null);

/// <summary>
/// Runs one delivered event through its worker's compiled handler and records the trace. Whatever the
/// handler returns or throws, the event is complete (Darklang's rule); only shutdown leaves it to be
/// delivered again.
/// </summary>
public sealed class EventRunner(EventPublisher publisher, RunRecorder recorder, LoopGuard loopGuard, WorkqOptions options, HandlerHttp http, ILogger<EventRunner> logger)
{
    public async Task<RunResult> RunAsync(CompiledHandler handler, int version, EventEnvelope envelope, int attempt, ReadOnlyMemory<byte> body, CancellationToken stopping)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(options.HandlerTimeout);

        using var activity = RunTelemetry.StartRun(envelope, attempt);
        // The run's span is the parent of what the handler emits, and its trace id is the one the trace keeps.
        if (activity is not null) envelope = envelope with { TraceParent = activity.Id };
        var meta = new HandlerMeta(envelope.Id, envelope.Canvas, envelope.Worker, envelope.EnqueuedAt, attempt, envelope.Depth);
        // One copy of the body: the delivery's buffer is reused once the callback returns, and the trace keeps it.
        var eventJson = body.ToArray();
        var emitter = new HandlerEmitter(publisher, envelope, options.MaxEmitDepth, options.MaxEmitsPerEvent);
        var globals = new HandlerGlobals(eventJson, meta, emitter, http.For(envelope.Canvas), timeout.Token);

        RunOutcome outcome;
        object? result = null;
        Exception? error = null;
        try
        {
            // WaitAsync: code that ignores its token still cannot hold the slot past the time-out.
            result = await handler.RunAsync(globals).WaitAsync(options.HandlerTimeout, stopping);
            outcome = RunOutcome.Completed;
            // Code that swallowed the refusal still went past the limit: the run fails with it.
            if (emitter.OverLimit is { } overLimit) (outcome, error, result) = (RunOutcome.Failed, overLimit, null);
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            return new RunResult(RunOutcome.ShuttingDown);
        }
        // The run's own deadline passed. A TimeoutException of the handler's own (a regular expression's, say) is a failure.
        catch (Exception e) when (timeout.IsCancellationRequested || (e is TimeoutException && clock.Elapsed >= options.HandlerTimeout))
        {
            outcome = RunOutcome.TimedOut;
            error = new TimeoutException($"The handler ran longer than {options.HandlerTimeout.TotalSeconds:0.###} s (WORKQ_HANDLER_TIMEOUT) and was cancelled.");
        }
        catch (Exception e)
        {
            outcome = RunOutcome.Failed;
            error = e;
            logger.LogDebug(e, "Handler of {Canvas}/{Worker} threw on event {EventId}", envelope.Canvas, envelope.Worker, envelope.Id);
        }
        var duration = clock.Elapsed;
        globals.Finish();
        var finishedAt = startedAt + duration;
        RunTelemetry.Finish(activity, envelope, outcome, error, duration, startedAt - envelope.EnqueuedAt);

        var emitted = globals.Emitted;
        // Only the inputs are kept here; the trace JSON is written only for the runs the recorder keeps.
        recorder.Record(new RunTrace(envelope, version, attempt, eventJson, outcome, result, handler.SerializerOptions,
            error?.GetType().Name, error?.Message, emitted, globals.Logs, startedAt, finishedAt, duration));
        var selfEmits = 0;
        foreach (var child in emitted) if (child.Worker == envelope.Worker) selfEmits++;
        loopGuard.Observe(envelope.Canvas, envelope.Worker, selfEmits);
        return new RunResult(outcome, error is null ? null : $"{error.GetType().Name}: {error.Message}");
    }

    /// <summary>An un-enqueued event reached its worker: it is traced as cancelled and not run.</summary>
    public void RecordCancelled(int version, EventEnvelope envelope, int attempt, ReadOnlyMemory<byte> body)
    {
        var now = DateTimeOffset.UtcNow;
        recorder.Record(new RunTrace(envelope, version, attempt, body.ToArray(), RunOutcome.Cancelled, null, null, null, null, [], [], now, now, TimeSpan.Zero));
    }
}
