namespace Workq.Shared.Handlers.Isolation;

// A handler's Http, relayed: the runner has no network, so it sends each request to the supervisor, which makes it with
// the canvas's connection pool and the egress policy and streams the answer back: a head, body chunks, then an end.

/// <summary>
/// Runner to supervisor: one request of a run, its whole body (bounded by the runner before it is sent).
/// </summary>
public readonly record struct HttpRequestFrame(
    long RunId,
    int RequestId,
    string Method,
    string Uri,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    ReadOnlyMemory<byte>? Body)
{
    public const byte Type = 104;
    private const int MaxHeaders = 1_000;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(RequestId);
        frame.String(Method);
        frame.String(Uri);
        HttpHeaderFields.Write(frame, Headers);
        frame.Bytes(Body is { } body ? body.Span : default, isNull: Body is null);
    }

    public static HttpRequestFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "HttpRequest");
        var (runId, requestId, method, uri) = (reader.Long(), reader.Int(), reader.Text("method"), reader.Text("URI"));
        var headers = HttpHeaderFields.Read(ref reader, MaxHeaders);
        var body = reader.Bytes(out var noBody);
        var frame = new HttpRequestFrame(
            runId,
            requestId,
            method,
            uri,
            headers,
            noBody ? (ReadOnlyMemory<byte>?)null : body.ToArray());
        reader.End();
        return frame;
    }
}

/// <summary>Header fields as name and value pairs, a name repeated for each of its values.</summary>
internal static class HttpHeaderFields
{
    public static void Write(FrameOutput.Frame frame, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        frame.Int(headers.Count);
        foreach (var (name, value) in headers)
        {
            frame.String(name);
            frame.String(value);
        }
    }

    public static KeyValuePair<string, string>[] Read(ref FrameReader reader, int max)
    {
        var count = reader.Count(max, "headers");
        var headers = new KeyValuePair<string, string>[count];
        for (var i = 0; i < count; i++) headers[i] = new(reader.Text("header name"), reader.Text("header value"));
        return headers;
    }
}
