namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Supervisor to runner, first: the canvas, the thread cap, how many Http requests may be in flight and how large a
/// request body may be, and the largest event, trace and step result.
/// </summary>
public readonly record struct InitFrame(
    string Canvas,
    int MaxThreads,
    int HttpConcurrency,
    int HttpMaxBytes,
    int MaxEventBytes,
    int MaxTraceBytes,
    int MaxStepBytes)
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
        frame.Int(MaxStepBytes);
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
            reader.Int(),
            reader.Int());
        reader.End();
        return frame;
    }
}
