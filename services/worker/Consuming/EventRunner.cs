using System.Diagnostics;
using Workq.Shared.Configuration;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Worker.Emitting;
using Workq.Worker.Recording;
using Workq.Worker.Runs;
using Workq.Worker.Telemetry;

namespace Workq.Worker.Consuming;

/// <summary>
/// Runs one delivered event through its worker's handler, on the <see cref="IHandlerHost"/> (a runner process of the
/// canvas, or this process), and records the trace. Whatever the handler returns or throws, the event is complete
/// (Darklang's rule); only shutdown or a runner that died under it leaves it to be delivered again.
/// </summary>
public sealed class EventRunner(
    IHandlerHost host,
    HandlerEmitEdges edges,
    RunRecorder recorder,
    LoopGuard loopGuard,
    EmitLimits options,
    TraceStoreOptions traces,
    HandlerOptions handlers)
{
    public async Task<RunResult> RunAsync(
        HandlerVersion handler,
        EventEnvelope envelope,
        int attempt,
        bool suspect,
        ReadOnlyMemory<byte> body,
        CancellationToken stopping)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        using var activity = RunTelemetry.StartRun(envelope, attempt);
        // The run's span is the parent of what the handler emits, and its trace id is the one the trace keeps.
        if (activity is not null) envelope = envelope with { TraceParent = activity.Id };
        // One copy of the body: the delivery's buffer is reused once the callback returns, and the trace keeps it.
        var eventJson = body.ToArray();
        var emitter = new HandlerEmitter(edges, envelope, attempt, options);
        var ran = await host.RunAsync(
            handler,
            new HandlerRun(envelope, attempt, eventJson, emitter, handlers.HandlerTimeout, suspect,
                await CallbackOfAsync(envelope, stopping)),
            stopping);
        await emitter.FinishAsync();
        if (ran.Outcome is RunOutcome.ShuttingDown or RunOutcome.Requeue or RunOutcome.Suspect) return new RunResult(
            ran.Outcome,
            ran.ErrorMessage);
        // Code that swallowed the refusal still went past the limit: the run fails with it.
        if (ran.Outcome == RunOutcome.Completed && emitter.OverLimit is { } overLimit)
            ran = ran with
            {
                Outcome = RunOutcome.Failed,
                Result = null,
                ErrorType = overLimit.GetType()
                .Name,
                ErrorMessage = overLimit.Message
            };

        var duration = ran.Duration > TimeSpan.Zero ? ran.Duration : clock.Elapsed;
        var finishedAt = startedAt + clock.Elapsed;
        RunTelemetry.Finish(
            activity,
            envelope,
            ran.Outcome,
            ran.ErrorType,
            ran.ErrorMessage,
            duration,
            startedAt - envelope.EnqueuedAt);

        var emitted = emitter.Emitted;
        // Held to WORKQ_MAX_TRACE_BYTES once, here, for the trace and the status alike, whichever host ran it.
        var kept = TraceBudget.Apply(ran, traces.MaxTraceBytes);
        // Only the inputs are kept here; the trace JSON is written only for the runs the recorder keeps.
        recorder.Record(new RunTrace(
            envelope,
            handler.Version,
            attempt,
            eventJson,
            ran.Outcome,
            kept,
            emitted,
            startedAt,
            finishedAt,
            duration,
            ran.Steps,
            ran.Suspension));
        var selfEmits = 0;
        foreach (var child in emitted) if (child.Worker == envelope.Worker) selfEmits++;
        loopGuard.Observe(envelope.Canvas, envelope.Worker, envelope.WorkerIncarnation, selfEmits);
        return new RunResult(ran.Outcome, kept.Error, ran.Outcome == RunOutcome.Completed ? kept.ResultJson : null,
            ran.Suspension);
    }

    /// <summary>
    /// The batch a callback runs for, as it finished (its handler's <c>Batch</c>); null for any other event, and for a
    /// callback whose batch is gone (pruned, or its canvas deleted).
    /// </summary>
    private async ValueTask<BatchSummary?> CallbackOfAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        if (envelope.CallbackOf is not { } batchId
            || await edges.Batches.FindAsync(envelope.Canvas, batchId, cancellationToken) is not { } batch) return null;
        return new BatchSummary(batch.Id, batch.Total, batch.Completed,
            batch.Failed + batch.TimedOut + batch.DeadLettered, batch.Cancelled);
    }

    /// <summary>An un-enqueued event reached its worker: it is traced as cancelled and not run.</summary>
    public void RecordCancelled(int version, EventEnvelope envelope, int attempt, ReadOnlyMemory<byte> body)
    {
        var now = DateTimeOffset.UtcNow;
        recorder.Record(new RunTrace(
            envelope,
            version,
            attempt,
            body.ToArray(),
            RunOutcome.Cancelled,
            new KeptRun(null, null, null, [], []),
            [],
            now,
            now,
            TimeSpan.Zero));
    }
}
