namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Supervisor to runner: the event of this run was cancelled (API.md "Cancel"): its handler's token is cancelled, and
/// however it ends, it ends cancelled.
/// </summary>
public readonly record struct CancelFrame(long RunId)
{
    public const byte Type = 11;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
    }

    public static CancelFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Cancel");
        var frame = new CancelFrame(reader.Long());
        reader.End();
        return frame;
    }
}
