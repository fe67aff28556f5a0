namespace Workq.Shared.Handlers.Isolation;

/// <summary>How a run ended inside a runner, as the runner tells it.</summary>
public enum RunnerOutcome : byte { Completed, Failed, TimedOut, Cancelled, Suspended }
