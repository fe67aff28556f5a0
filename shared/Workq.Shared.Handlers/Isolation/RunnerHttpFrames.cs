namespace Workq.Shared.Handlers.Isolation;

// A handler's Http, relayed: the runner has no network, so it sends each request to the supervisor, which makes it with
// the canvas's connection pool and the egress policy and streams the answer back: a head, body chunks, then an end.

/// <summary>How a relayed request ended, when it did not end well (<see cref="HttpEndFrame"/>).</summary>
public enum HttpFailure : byte
{
    None,
    /// <summary>
    /// Thrown in the handler as <see cref="HttpRequestException"/> with the message (a refusal, a connection error, a
    /// cap).
    /// </summary>
    Request,
    /// <summary>
    /// Thrown as <see cref="TaskCanceledException"/>: the run's time-out, or the handler's own token.
    /// </summary>
    Cancelled,
}

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
