using System.Text.Json;
using Workq.Shared.Handlers.Messaging;

namespace Workq.Worker.Runs;

/// <summary>
/// How a run ended. <see cref="RunOutcome.Requeue"/>, <see cref="RunOutcome.Suspect"/> and
/// <see cref="RunOutcome.Crashed"/> come only from runner processes; <see cref="Result"/> is the handler's value
/// (in process) or its JSON as a <see cref="TraceResult"/> (from a runner). A <see cref="RunOutcome.Suspended"/> run
/// has its <see cref="Suspension"/>; <see cref="Steps"/> are the durable steps the run met, for its trace.
/// </summary>
public sealed record HandlerOutcome(RunOutcome Outcome, TimeSpan Duration, object? Result = null,
    JsonSerializerOptions? ResultOptions = null, string? ErrorType = null, string? ErrorMessage = null,
    IReadOnlyList<string>? Logs = null, Suspension? Suspension = null, IReadOnlyList<StepTrace>? Steps = null)
{
    /// <summary>
    /// Its event was cancelled while it ran (API.md "Cancel"); <paramref name="after"/> says how it was stopped when
    /// the handler did not stop by itself.
    /// </summary>
    public static HandlerOutcome Cancelled(string by, TimeSpan duration, IReadOnlyList<string>? logs = null,
        IReadOnlyList<StepTrace>? steps = null, string? after = null) =>
        new(RunOutcome.Cancelled, duration, ErrorType: "OperationCanceledException",
            ErrorMessage: $"Cancelled by {by}{after}.", Logs: logs, Steps: steps);

    public static readonly HandlerOutcome ShuttingDown = new(RunOutcome.ShuttingDown, TimeSpan.Zero);

    public static HandlerOutcome TimedOut(TimeSpan timeout, TimeSpan duration, IReadOnlyList<string>? logs = null,
        string? after = null) =>
        new(RunOutcome.TimedOut, duration, ErrorType: nameof(TimeoutException),
            ErrorMessage: $"The handler ran longer than {timeout.TotalSeconds:0.###} s (WORKQ_HANDLER_TIMEOUT_SECONDS) "
                + $"and was {after ?? "cancelled"}.",
            Logs: logs);
}
