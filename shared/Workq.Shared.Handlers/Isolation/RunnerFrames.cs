using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;

namespace Workq.Shared.Handlers.Isolation;

// The frames of the runner channel (RunnerProtocol), one record each: its type byte, its one write and its one read. A
// read checks every field and that nothing is left over, so a runner that sends anything else breaks the protocol.

/// <summary>
/// Supervisor to runner, first: the canvas, the thread cap, how many Http requests may be in flight and how large a
/// request body may be.
/// </summary>
public readonly record struct InitFrame(
    string Canvas,
    int MaxThreads,
    int HttpConcurrency,
    int HttpMaxBytes,
    int MaxEventBytes,
    int MaxTraceBytes)
{
    public const byte Type = 1;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.String(Canvas);
        frame.Int(MaxThreads);
        frame.Int(HttpConcurrency);
        frame.Int(HttpMaxBytes);
        frame.Int(MaxEventBytes);
        frame.Int(MaxTraceBytes);
    }

    public static InitFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Init");
        var frame = new InitFrame(
            reader.Text("canvas"),
            reader.Int(),
            reader.Int(),
            reader.Int(),
            reader.Int(),
            reader.Int());
        reader.End();
        return frame;
    }
}

/// <summary>Supervisor to runner: a handler version to load, by the key runs name it with.</summary>
public readonly record struct LoadFrame(int Key, ReadOnlyMemory<byte> Assembly)
{
    public const byte Type = 2;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Int(Key);
        frame.Bytes(Assembly.Span);
    }

    public static LoadFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Load");
        var frame = new LoadFrame(reader.Int(), reader.Bytes().ToArray());
        reader.End();
        return frame;
    }
}

/// <summary>Supervisor to runner: a version that nothing will run again.</summary>
public readonly record struct UnloadFrame(int Key)
{
    public const byte Type = 3;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Int(Key);
    }

    public static UnloadFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Unload");
        var frame = new UnloadFrame(reader.Int());
        reader.End();
        return frame;
    }
}

/// <summary>Supervisor to runner: one event to run. The run id is the runner's only handle on it.</summary>
public readonly record struct RunFrame(
    long RunId,
    int Key,
    Guid EventId,
    string Worker,
    DateTimeOffset EnqueuedAt,
    int Attempt,
    int Depth,
    TimeSpan Timeout,
    ReadOnlyMemory<byte> Body)
{
    public const byte Type = 4;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(Key);
        frame.Guid(EventId);
        frame.String(Worker);
        frame.Long(EnqueuedAt.UtcTicks);
        frame.Int(Attempt);
        frame.Int(Depth);
        frame.Int((int)Math.Min(int.MaxValue, Timeout.TotalMilliseconds));
        frame.Bytes(Body.Span);
    }

    public static RunFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Run");
        var frame = new RunFrame(
            reader.Long(),
            reader.Int(),
            reader.Guid(),
            reader.Text("worker"),
            new DateTimeOffset(reader.Long(), TimeSpan.Zero),
            reader.Int(),
            reader.Int(),
            TimeSpan.FromMilliseconds(reader.Int()),
            reader.Bytes().ToArray());
        reader.End();
        return frame;
    }
}

/// <summary>
/// Supervisor to runner: the answer to an <see cref="EmitFrame"/>, the event's id or why it was refused.
/// </summary>
public readonly record struct EmitReplyFrame(long RunId, int Number, Guid? EventId, byte FailureKind, string? Refusal)
{
    public const byte Type = 5;

    public static EmitReplyFrame Emitted(long runId, int number, Guid eventId) => new(runId, number, eventId, 0, null);

    public static EmitReplyFrame Refused(long runId, int number, byte kind, string refusal)
        => new(runId, number, null, kind, refusal);

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(Number);
        frame.Bool(EventId is not null);
        frame.Guid(EventId ?? default);
        frame.Byte(FailureKind);
        frame.String(Refusal);
    }

    public static EmitReplyFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "EmitReply");
        var (runId, number, emitted, id) = (reader.Long(), reader.Int(), reader.Bool(), reader.Guid());
        var frame = new EmitReplyFrame(runId, number, emitted ? id : null, reader.Byte(), reader.String());
        reader.End();
        return frame;
    }
}

/// <summary>Runner to supervisor, once, after <see cref="InitFrame"/>: it takes runs.</summary>
public readonly record struct ReadyFrame(int Pid)
{
    public const byte Type = 101;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Int(Pid);
    }

    public static ReadyFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Ready");
        var frame = new ReadyFrame(reader.Int());
        reader.End();
        return frame;
    }
}

/// <summary>
/// Runner to supervisor: a run's <c>Emit</c>, numbered within the run, for the supervisor to publish in the run's
/// canvas.
/// </summary>
public readonly record struct EmitFrame(long RunId, int Number, string Worker, ReadOnlyMemory<byte> Json, EmitWhen When)
{
    public const byte Type = 102;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(Number);
        frame.String(Worker);
        frame.Bytes(Json.Span);
        frame.When(When);
    }

    public static EmitFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Emit");
        var frame = new EmitFrame(
            reader.Long(),
            reader.Int(),
            reader.Text("worker"),
            reader.Bytes().ToArray(),
            reader.When());
        reader.End();
        return frame;
    }
}

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
