namespace Workq.Worker.Runs;

/// <summary>
/// How a run ended; <c>Result</c> is the handler's return value as JSON (null for none) for the event's status.
/// </summary>
public readonly record struct RunResult(RunOutcome Outcome, string? Error = null, string? Result = null);
