using Workq.Shared.Handlers.Isolation;

namespace Workq.Worker.Isolation;

/// <summary>How a runner ended: <see cref="Crash"/> is set when it died of its own accord, naming the cause.</summary>
public sealed record RunnerExit(string Reason, string? Crash, int ExitCode, TimeSpan Lifetime)
{
    /// <summary>The error its runs in flight end with when it crashed.</summary>
    public string? RunError => Crash is null
        ? null
        : Crash.StartsWith(RunnerProtocol.BrokeProtocol, StringComparison.Ordinal) ? Crash : $"runner crashed: {Crash}";
}
