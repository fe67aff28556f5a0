namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Supervisor to runner: the response's head; <see cref="RequestUri"/> is where the last redirect led.
/// </summary>
public readonly record struct HttpResponseFrame(
    int RequestId,
    int Status,
    string? Reason,
    Version Version,
    string? RequestUri,
    IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public const byte Type = 6;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Int(RequestId);
        frame.Int(Status);
        frame.String(Reason);
        frame.Int(Version.Major);
        frame.Int(Version.Minor);
        frame.String(RequestUri);
        HttpHeaderFields.Write(frame, Headers);
    }

    public static HttpResponseFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "HttpResponse");
        var (requestId, status, reason, major, minor, uri) = (reader.Int(), reader.Int(), reader.String(), reader
            .Int(), reader.Int(), reader.String());
        var frame = new HttpResponseFrame(
            requestId,
            status,
            reason,
            new Version(Math.Max(0, major), Math.Max(0, minor)),
            uri,
            HttpHeaderFields.Read(ref reader, int.MaxValue));
        reader.End();
        return frame;
    }
}
