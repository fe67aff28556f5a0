using System.Diagnostics;
using Workq.Shared.Messaging;
using Workq.Shared.Telemetry;
using Workq.Worker.Runs;

namespace Workq.Worker.Telemetry;

/// <summary>A handler run's span and measurements (see <see cref="WorkqDiagnostics"/>).</summary>
public static class RunTelemetry
{
    public static Activity? StartRun(in EventEnvelope envelope, int attempt) =>
        WorkqDiagnostics.Source.HasListeners()
            ? WorkqDiagnostics.StartProcess(envelope, Topology.WorkerQueue(envelope.Canvas, envelope.Worker), attempt)
            : null;

    public static void Finish(
        Activity? activity,
        in EventEnvelope envelope,
        RunOutcome outcome,
        string? errorType,
        string? errorMessage,
        TimeSpan duration,
        TimeSpan queueWait)
    {
        var name = outcome switch
        {
            RunOutcome.Completed => "completed",
            RunOutcome.TimedOut => "timed_out",
            _ => "failed",
        };
        if (activity is not null)
        {
            activity.SetTag("workq.outcome", name);
            if (errorType is not null) activity.SetStatus(ActivityStatusCode.Error, $"{errorType}: {errorMessage}");
        }
        var tags = WorkqDiagnostics.Tags(envelope.Canvas, envelope.Worker, name);
        WorkqDiagnostics.Processed.Add(1, tags);
        WorkqDiagnostics.HandlerDuration.Record(duration.TotalMilliseconds, tags);
        WorkqDiagnostics.QueueWait
            .Record(Math.Max(0, queueWait.TotalMilliseconds), WorkqDiagnostics.Tags(envelope.Canvas, envelope.Worker));
        if (outcome == RunOutcome.Completed) return;
        WorkqDiagnostics.Failed.Add(1, tags);
        if (outcome == RunOutcome.TimedOut) WorkqDiagnostics.TimedOut
            .Add(1, WorkqDiagnostics.Tags(envelope.Canvas, envelope.Worker));
    }
}
