using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Scripting;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Runner to supervisor: how a run ended, with the handler's result JSON, its error and its log lines; a suspended
/// run's <c>Suspension</c>, and the steps it met.
/// </summary>
public readonly record struct DoneFrame(
    long RunId,
    RunnerOutcome Outcome,
    TimeSpan Duration,
    ReadOnlyMemory<byte>? Result,
    string? ErrorType,
    string? ErrorMessage,
    IReadOnlyList<string> Logs,
    Suspension? Suspension = null,
    IReadOnlyList<StepTrace>? Steps = null)
{
    public const byte Type = 103;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Byte((byte)Outcome);
        frame.Long(Duration.Ticks);
        frame.Bytes(Result is { } result ? result.Span : default, isNull: Result is null);
        frame.String(ErrorType);
        frame.String(ErrorMessage);
        frame.Int(Logs.Count);
        foreach (var line in Logs) frame.String(line);
        var suspension = Suspension ?? default;
        frame.Byte((byte)suspension.Kind);
        frame.String(suspension.Key);
        frame.Long(suspension.Until.UtcTicks);
        frame.String(suspension.WaitName);
        var steps = Steps ?? [];
        frame.Int(steps.Count);
        foreach (var step in steps)
        {
            frame.String(step.Name);
            frame.Bool(step.Replayed);
            frame.Long(step.Duration.Ticks);
        }
    }

    public static DoneFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Done");
        var (runId, outcome, ticks) = (reader.Long(), reader.Byte(), reader.Long());
        if (!Enum.IsDefined((RunnerOutcome)outcome)) throw reader.Broken($"outcome {outcome}");
        var result = reader.Bytes(out var noResult);
        var frameResult = noResult ? (ReadOnlyMemory<byte>?)null : result.ToArray();
        var (errorType, errorMessage) = (reader.String(), reader.String());
        var count = reader.Count(HandlerGlobals.MaxLogLines, "log lines");
        var logs = count == 0 ? [] : new string[count];
        for (var i = 0; i < count; i++) logs[i] = reader.Text("log line");
        var (kind, key, until, waitName) = (reader.Byte(), reader.String(), reader.Long(), reader.String());
        Suspension? suspension = null;
        if (kind != 0)
        {
            if (!Enum.IsDefined((SuspensionKind)kind) || key is null || until is < 0 or > 3_155_378_975_999_999_999
                || ((SuspensionKind)kind == SuspensionKind.Wait) != waitName is not null)
                throw reader.Broken($"a suspension of kind {kind}");
            suspension = new Suspension((SuspensionKind)kind, key, new DateTimeOffset(until, TimeSpan.Zero), waitName);
        }
        var stepCount = reader.Count(StepLimits.MaxSteps * 2, "steps");
        var steps = stepCount == 0 ? [] : new StepTrace[stepCount];
        for (var i = 0; i < stepCount; i++)
            steps[i] = new StepTrace(reader.Text("step"), reader.Bool(),
                TimeSpan.FromTicks(Math.Max(0, reader.Long())));
        reader.End();
        return new DoneFrame(
            runId,
            (RunnerOutcome)outcome,
            TimeSpan.FromTicks(Math.Max(0, ticks)),
            frameResult,
            errorType,
            errorMessage,
            logs,
            suspension,
            steps);
    }
}
