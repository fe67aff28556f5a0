using System.Text.Json;
using Workq.Shared.Messaging;
using Workq.Worker.Consuming;

namespace Workq.Worker.Isolation;

/// <summary>One deployed version of a worker's code: the assembly control compiled, and a key runners know it by.</summary>
public sealed class HandlerVersion(string canvas, string worker, int version, byte[] assembly)
{
    private static int lastKey;

    public string Canvas => canvas;
    public string Worker => worker;
    public int Version => version;
    public byte[] Assembly => assembly;
    /// <summary>Unique in this process: a runner may hold several versions of one worker while the old one drains.</summary>
    public int Key { get; } = Interlocked.Increment(ref lastKey);
}

/// <summary>
/// One delivery to run: the handler's <c>Emit</c> goes through <paramref name="Emitter"/> whichever host runs it.
/// <paramref name="Suspect"/>: it was running when its canvas's runner crashed (<see cref="Shared.Messaging.EventHeaders.CrashSuspect"/>).
/// </summary>
public sealed record HandlerRun(EventEnvelope Envelope, int Attempt, byte[] Body, HandlerEmitter Emitter, TimeSpan Timeout, bool Suspect = false);

/// <summary>
/// How a run ended. <see cref="RunOutcome.Requeue"/>, <see cref="RunOutcome.Suspect"/> and <see cref="RunOutcome.Crashed"/> come only from runner processes;
/// <see cref="Result"/> is the handler's value (in process) or its JSON as a <see cref="Recording.TraceResult"/> (from a runner).
/// </summary>
public sealed record HandlerOutcome(RunOutcome Outcome, TimeSpan Duration, object? Result = null, JsonSerializerOptions? ResultOptions = null,
    string? ErrorType = null, string? ErrorMessage = null, IReadOnlyList<string>? Logs = null)
{
    public static readonly HandlerOutcome ShuttingDown = new(RunOutcome.ShuttingDown, TimeSpan.Zero);

    public static HandlerOutcome TimedOut(TimeSpan timeout, TimeSpan duration, IReadOnlyList<string>? logs = null, string? after = null) =>
        new(RunOutcome.TimedOut, duration, ErrorType: nameof(TimeoutException),
            ErrorMessage: $"The handler ran longer than {timeout.TotalSeconds:0.###} s (WORKQ_HANDLER_TIMEOUT_SECONDS) and was {after ?? "cancelled"}.", Logs: logs);
}

/// <summary>Where handler code runs: in this process (<c>WORKQ_ISOLATION=none</c>) or in a runner process per canvas.</summary>
public interface IHandlerHost
{
    Task<HandlerOutcome> RunAsync(HandlerVersion version, HandlerRun run, CancellationToken stopping);

    /// <summary>The version was replaced or removed: nothing runs it again once its runs in flight finish.</summary>
    void Retire(HandlerVersion version);
}
