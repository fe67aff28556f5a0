using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Runner to supervisor: a run's <c>Emit</c>, numbered within the run, for the supervisor to publish in the run's
/// canvas.
/// </summary>
public readonly record struct EmitFrame(
    long RunId,
    int Number,
    string Worker,
    ReadOnlyMemory<byte> Json,
    EmitOptions Options)
{
    public const byte Type = 102;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(Number);
        frame.String(Worker);
        frame.Bytes(Json.Span);
        frame.Options(Options);
    }

    public static EmitFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Emit");
        var frame = new EmitFrame(
            reader.Long(),
            reader.Int(),
            reader.Text("worker"),
            reader.Bytes().ToArray(),
            reader.Options());
        reader.End();
        return frame;
    }
}
