namespace Workq.Shared.Handlers.Isolation;

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
