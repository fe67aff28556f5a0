using Workq.Shared.Handlers.Isolation;
using Workq.Worker.Runs;

namespace Workq.Worker.Isolation;

/// <summary>
/// Why a runner ended, as a pure function of what was seen: a kill of ours (a time-out, idle, shutdown) is no crash.
/// </summary>
public static class RunnerExits
{
    /// <summary>
    /// The kill reason when the runner's channel ended first: the process died or broke the protocol, so it crashed.
    /// </summary>
    public const string ChannelClosed = "its channel closed";

    public static RunnerExit Describe(RunnerEnd end, TimeSpan lifetime)
    {
        if (end.KillReason != ChannelClosed) return new RunnerExit(end.KillReason, null, end.ExitCode, lifetime);
        var crash = Cause(end);
        return new RunnerExit(crash, crash, end.ExitCode, lifetime);
    }

    /// <summary>
    /// How a run the runner still held when it ended ends: with the crash when it crashed; timed out when it was one of
    /// the overdue runs it was killed for; otherwise back to its queue, unrun as far as anyone knows.
    /// </summary>
    public static HandlerOutcome HeldRunOutcome(RunnerExit exit, bool overdue, TimeSpan timeout)
    {
        if (exit.RunError is { } crash)
            return new HandlerOutcome(
                RunOutcome.Crashed,
                TimeSpan.Zero,
                ErrorType: "RunnerCrashed",
                ErrorMessage: crash);
        if (overdue)
            return HandlerOutcome.TimedOut(timeout, timeout,
                after: "stopped by killing its canvas's runner process (it ignored its CancellationToken)");
        return new HandlerOutcome(
            RunOutcome.Requeue,
            TimeSpan.Zero,
            ErrorMessage: $"the canvas's runner was stopped: {exit.Reason}");
    }

    private static string Cause(RunnerEnd end)
    {
        if (end.ProtocolBreak is { } broke) return $"{RunnerProtocol.BrokeProtocol}: {broke}";
        if (end.StackOverflow) return "stack overflow";
        if (end.MemoryCgroupKill) return $"out of memory: its memory cgroup's limit is {end.MemoryMegabytes} MB, " +
            $"WORKQ_RUNNER_MEMORY_MB";
        if (end.OutOfMemory) return $"out of memory (the runner's limit is {end.MemoryMegabytes} MB, " +
            $"WORKQ_RUNNER_MEMORY_MB)";
        if (end.Stderr
            .FirstOrDefault(l => l.StartsWith("Unhandled exception.", StringComparison.Ordinal)) is { } unhandled)
            return $"unhandled exception in background code: {unhandled["Unhandled exception.".Length..].Trim()}";
        if (end.ExitCode == 137) return "killed by the system (SIGKILL), most likely for memory";
        return $"exited with code {end.ExitCode}{(end.Stderr.Count > 0 ? $": {end.Stderr[^1]}" : "")}";
    }
}
