using Workq.Shared.Scripting;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Runner to supervisor: how a run ended, with the handler's result JSON, its error and its log lines.
/// </summary>
public readonly record struct DoneFrame(
    long RunId,
    RunnerOutcome Outcome,
    TimeSpan Duration,
    ReadOnlyMemory<byte>? Result,
    string? ErrorType,
    string? ErrorMessage,
    IReadOnlyList<string> Logs)
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
        reader.End();
        return new DoneFrame(
            runId,
            (RunnerOutcome)outcome,
            TimeSpan.FromTicks(Math.Max(0, ticks)),
            frameResult,
            errorType,
            errorMessage,
            logs);
    }
}
