using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Supervisor to runner: the answer to a <see cref="StepFrame"/>. A load's <c>State</c>; a save's <c>Won</c> (what
/// another run kept first, null when this one's was kept); or why it was refused.
/// </summary>
public readonly record struct StepReplyFrame(long RunId, int Number, StepState? State, ReadOnlyMemory<byte>? Won,
    string? Refusal)
{
    public const byte Type = 10;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(Number);
        frame.String(Refusal);
        frame.Bytes(Won is { } won ? won.Span : default, isNull: Won is null);
        frame.Bool(State is not null);
        if (State is not { } state) return;
        Entries(frame, state.Steps);
        Entries(frame, state.Signals);
    }

    public static StepReplyFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "StepReply");
        var (runId, number, refusal) = (reader.Long(), reader.Int(), reader.String());
        var won = reader.Bytes(out var noWinner);
        var wonCopy = noWinner ? (ReadOnlyMemory<byte>?)null : won.ToArray();
        StepState? state = null;
        if (reader.Bool())
        {
            var steps = Entries(ref reader, StepLimits.MaxSteps * 2, "steps");
            state = new StepState(steps, Entries(ref reader, StepLimits.MaxSteps, "signals"));
        }
        reader.End();
        return new StepReplyFrame(runId, number, state, wonCopy, refusal);
    }

    private static void Entries(FrameOutput.Frame frame, IReadOnlyDictionary<string, byte[]> entries)
    {
        frame.Int(entries.Count);
        foreach (var (key, json) in entries)
        {
            frame.String(key);
            frame.Bytes(json);
        }
    }

    private static Dictionary<string, byte[]> Entries(ref FrameReader reader, int max, string what)
    {
        var count = reader.Count(max, what);
        var entries = new Dictionary<string, byte[]>(count);
        for (var i = 0; i < count; i++) entries[reader.Text("key")] = reader.Bytes().ToArray();
        return entries;
    }
}
