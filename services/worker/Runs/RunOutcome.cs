namespace Workq.Worker.Runs;

/// <summary>
/// <see cref="Requeue"/>: the event goes back to its queue unrun (its canvas's runner was killed for another run, or
/// could not start). <see cref="Suspect"/>: its canvas's runner crashed while it ran; it goes back marked, to run
/// alone. <see cref="Crashed"/>: it crashed a runner it had to itself, and is dead-lettered. <see cref="Suspended"/>:
/// it ended in a durable <c>Sleep</c> or <c>WaitFor</c>, and runs again when that ends.
/// </summary>
public enum RunOutcome { Completed, Failed, TimedOut, Cancelled, ShuttingDown, Requeue, Suspect, Crashed, Suspended }
