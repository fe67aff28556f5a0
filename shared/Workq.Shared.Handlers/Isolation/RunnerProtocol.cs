namespace Workq.Shared.Isolation;

/// <summary>How a run ended inside a runner, as the runner tells it.</summary>
public enum RunnerOutcome : byte { Completed, Failed, TimedOut }

/// <summary>
/// The messages between a worker instance (the supervisor) and one runner process, over the runner's stdin and stdout
/// (<see cref="FrameOutput"/>). The supervisor holds every credential and decides everything; a runner only loads
/// compiled handlers, runs them and asks the supervisor to publish what they emit, naming nothing but its own run ids.
/// </summary>
public static class RunnerProtocol
{
    // Supervisor to runner.
    /// <summary>First frame: canvas, egress allow-list (or null), thread cap.</summary>
    public const byte Init = 1;
    /// <summary>A handler version: key, assembly bytes.</summary>
    public const byte Load = 2;
    /// <summary>A retired version: key.</summary>
    public const byte Unload = 3;
    /// <summary>Run id, version key, event id, worker, enqueued-at ticks, attempt, depth, time-out ms, body.</summary>
    public const byte Run = 4;
    /// <summary>Run id, emit number, success, event id, failure kind, message.</summary>
    public const byte EmitReply = 5;

    // Runner to supervisor.
    /// <summary>Sent once, after <see cref="Init"/>: the runner takes runs.</summary>
    public const byte Ready = 101;
    /// <summary>Run id, emit number, worker, event JSON.</summary>
    public const byte Emit = 102;
    /// <summary>Run id, outcome, duration ticks, result JSON (or null), error type, error message, log lines.</summary>
    public const byte Done = 103;

    /// <summary>Failure kinds in <see cref="EmitReply"/>: thrown in the handler as these exception types.</summary>
    public const byte EmitInvalidArgument = 1;
    public const byte EmitRefused = 2;
    public const byte EmitQueueFull = 3;

    /// <summary>What the runner writes on stderr when it ends itself because the supervisor went away.</summary>
    public const string OrphanedExit = "the worker service closed the channel";
}
