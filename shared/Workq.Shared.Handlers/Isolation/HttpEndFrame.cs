namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Supervisor to runner: the request is over, after its body or instead of a response, and why when it failed.
/// </summary>
public readonly record struct HttpEndFrame(
    int RequestId,
    HttpFailure Failure,
    string? Message,
    HttpRequestError Error = HttpRequestError.Unknown)
{
    public const byte Type = 8;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Int(RequestId);
        frame.Byte((byte)Failure);
        frame.String(Message);
        frame.Int((int)Error);
    }

    public static HttpEndFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "HttpEnd");
        var (requestId, failure) = (reader.Int(), reader.Byte());
        if (!Enum.IsDefined((HttpFailure)failure)) throw reader.Broken($"failure {failure}");
        var frame = new HttpEndFrame(requestId, (HttpFailure)failure, reader.String(), (HttpRequestError)reader.Int());
        reader.End();
        return frame;
    }
}
