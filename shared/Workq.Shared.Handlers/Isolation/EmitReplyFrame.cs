namespace Workq.Shared.Handlers.Isolation;

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
