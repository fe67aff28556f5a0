namespace Workq.Shared.Handlers.Isolation;

/// <summary>Supervisor to runner: the next piece of a response's body.</summary>
public readonly record struct HttpBodyFrame(int RequestId, ReadOnlyMemory<byte> Chunk)
{
    public const byte Type = 7;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Int(RequestId);
        frame.Bytes(Chunk.Span);
    }

    public static HttpBodyFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "HttpBody");
        var frame = new HttpBodyFrame(reader.Int(), reader.Bytes().ToArray());
        reader.End();
        return frame;
    }
}
