namespace Workq.Worker.Runs;

/// <summary>
/// How a run ended; <c>Result</c> is the handler's return value as JSON (null for none) for the event's status; a
/// suspended run's <c>Suspension</c>.
/// </summary>
public readonly record struct RunResult(RunOutcome Outcome, string? Error = null, string? Result = null,
    Shared.Handlers.Messaging.Suspension? Suspension = null);
