namespace Workq.Control.Compiling;

public enum CompileStatus
{
    /// <summary>The compiler answered: <see cref="CompileOutcome.Errors"/> is empty when the code compiled.</summary>
    Compiled,
    /// <summary>The compile ran past the timeout and its process was killed.</summary>
    TimedOut,
    /// <summary>Every compiler process was busy for the whole wait.</summary>
    Busy,
    /// <summary>The compiler process died on this code (its heap limit, a stack overflow).</summary>
    Crashed,
    /// <summary>No compiler process could be started or warmed up.</summary>
    Unavailable,
}
