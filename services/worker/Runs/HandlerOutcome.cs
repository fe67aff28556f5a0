using System.Text.Json;

namespace Workq.Worker.Runs;

/// <summary>
/// How a run ended. <see cref="RunOutcome.Requeue"/>, <see cref="RunOutcome.Suspect"/> and
/// <see cref="RunOutcome.Crashed"/> come only from runner processes; <see cref="Result"/> is the handler's value
/// (in process) or its JSON as a <see cref="TraceResult"/> (from a runner).
/// </summary>
public sealed record HandlerOutcome(RunOutcome Outcome, TimeSpan Duration, object? Result = null,
    JsonSerializerOptions? ResultOptions = null, string? ErrorType = null, string? ErrorMessage = null,
    IReadOnlyList<string>? Logs = null)
{
    public static readonly HandlerOutcome ShuttingDown = new(RunOutcome.ShuttingDown, TimeSpan.Zero);

    public static HandlerOutcome TimedOut(TimeSpan timeout, TimeSpan duration, IReadOnlyList<string>? logs = null,
        string? after = null) =>
        new(RunOutcome.TimedOut, duration, ErrorType: nameof(TimeoutException),
            ErrorMessage: $"The handler ran longer than {timeout.TotalSeconds:0.###} s (WORKQ_HANDLER_TIMEOUT_SECONDS) "
                + $"and was {after ?? "cancelled"}.",
            Logs: logs);
}
