namespace Workq.Shared.Handlers.Isolation;

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
