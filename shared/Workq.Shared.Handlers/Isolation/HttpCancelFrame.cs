namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Runner to supervisor: the handler gave up on a request (its token, or the run ended); an <see cref="HttpEndFrame"/>
/// still follows.
/// </summary>
public readonly record struct HttpCancelFrame(int RequestId)
{
    public const byte Type = 105;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Int(RequestId);
    }

    public static HttpCancelFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "HttpCancel");
        var frame = new HttpCancelFrame(reader.Int());
        reader.End();
        return frame;
    }
}
