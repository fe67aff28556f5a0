namespace Workq.Shared.Handlers.Isolation;

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
