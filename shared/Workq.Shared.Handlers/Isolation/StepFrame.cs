namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Runner to supervisor: a run's durable state (API.md "Durable handlers"), numbered within the run. <c>Load</c>: what
/// the event's earlier runs kept. <c>Save</c>: keep a finished step's result under <c>Key</c>, taking the early
/// <c>Signal</c> it consumed. Answered with a <see cref="StepReplyFrame"/>.
/// </summary>
public readonly record struct StepFrame(long RunId, int Number, bool Save, string? Key, ReadOnlyMemory<byte> Json,
    string? Signal)
{
    public const byte Type = 108;

    public static StepFrame Load(long runId, int number) => new(runId, number, false, null, default, null);

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(Number);
        frame.Bool(Save);
        frame.String(Key);
        frame.Bytes(Json.Span);
        frame.String(Signal);
    }

    public static StepFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Step");
        var frame = new StepFrame(reader.Long(), reader.Int(), reader.Bool(), reader.String(), reader.Bytes().ToArray(),
            reader.String());
        if (frame.Save && frame.Key is null) throw reader.Broken("a save without a key");
        reader.End();
        return frame;
    }
}
