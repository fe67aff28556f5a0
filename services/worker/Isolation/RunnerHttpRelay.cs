using System.Buffers;
using System.Collections.Concurrent;
using Workq.Shared.Handlers.Isolation;
using Workq.Shared.Handlers.Scripting;

namespace Workq.Worker.Isolation;

/// <summary>
/// The supervisor's half of a handler's <c>Http</c>: a runner has no network, so it relays each request here, and this
/// makes it over the canvas's connection pool (<see cref="HandlerHttp"/>: no proxy, no cookies, the egress policy on
/// every address, redirects included) and streams the answer back, a chunk at a time, stopping at <see
/// cref="HandlerHttpLimits.MaxBytes"/>. A request ends with the run's time-out, the run's end, the handler's cancel, or
/// the runner's end.
/// </summary>
public sealed class RunnerHttpRelay(
    HttpMessageInvoker pool,
    FrameOutput output,
    HandlerHttpLimits limits,
    ILogger logger)
{
    private const int ChunkBytes = 64 * 1024;
    // A runner that stops reading its stdin must not make the worker service buffer its responses.
    private const int UnreadBytes = 1024 * 1024;

    private readonly ConcurrentDictionary<int, InFlight> inFlight = new();

    /// <summary>
    /// Starts a request of a run the runner holds. A request id in use, or more requests than the runner was told it
    /// may have, is no mistake a runner makes: it throws <see cref="InvalidDataException"/>, which ends the runner.
    /// </summary>
    public void Start(HttpRequestFrame frame, CancellationToken stopping, TimeSpan untilDeadline)
    {
        if (inFlight.Count >= limits.Concurrency)
            throw new InvalidDataException(
                $"an HttpRequest frame past the {limits.Concurrency} requests a runner may have in flight");
        var request = new InFlight(frame.RunId, CancellationTokenSource.CreateLinkedTokenSource(stopping));
        request.Cancellation.CancelAfter(untilDeadline > TimeSpan.Zero ? untilDeadline : TimeSpan.Zero);
        if (!inFlight.TryAdd(frame.RequestId, request))
        {
            request.Cancellation.Dispose();
            throw new InvalidDataException(
                $"an HttpRequest frame reusing request id {frame.RequestId}, still in flight");
        }
        _ = SendAsync(frame, request);
    }

    /// <summary>The handler gave up on it; an unknown id is one that has just ended.</summary>
    public void Cancel(HttpCancelFrame frame)
    {
        if (inFlight.TryGetValue(frame.RequestId, out var request)) request.Cancel();
    }

    /// <summary>A run ended: whatever it left in flight (a request it never awaited) ends with it.</summary>
    public void EndRun(long runId)
    {
        foreach (var request in inFlight.Values)
            if (request.RunId == runId) request.Cancel();
    }

    /// <summary>The runner is gone.</summary>
    public void EndAll()
    {
        foreach (var request in inFlight.Values) request.Cancel();
    }

    private async Task SendAsync(HttpRequestFrame frame, InFlight request)
    {
        var token = request.Cancellation.Token;
        var end = new HttpEndFrame(frame.RequestId, HttpFailure.None, null);
        byte[]? chunk = null;
        try
        {
            using var message = Message(frame);
            using var response = await pool.SendAsync(message, token);
            var headers = new List<KeyValuePair<string, string>>();
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
                foreach (var value in values) headers.Add(new(name, value));
            if (response.Content.Headers.ContentLength > limits.MaxBytes) throw TooLarge();
            new HttpResponseFrame(frame.RequestId, (int)response.StatusCode, response.ReasonPhrase, response.Version,
                response.RequestMessage?.RequestUri?.AbsoluteUri, headers).Write(output);
            await using var body = await response.Content.ReadAsStreamAsync(token);
            chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(chunk.AsMemory(0, ChunkBytes), token)) > 0)
            {
                if ((total += read) > limits.MaxBytes) throw TooLarge();
                await output.WaitForRoomAsync(UnreadBytes, token);
                new HttpBodyFrame(frame.RequestId, chunk.AsMemory(0, read)).Write(output);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            end = end with
            {
                Failure = HttpFailure.Cancelled,
                Message
                = "The request was cancelled: the run's time-out passed, the run ended or the handler cancelled it."
            };
        }
        catch (HttpRequestException e)
        {
            end = end with { Failure = HttpFailure.Request, Message = e.Message, Error = e.HttpRequestError };
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException
            or NotSupportedException or IOException)
        {
            // A request the handler built that HttpClient refuses (a bad method or header), or a connection that broke
            // mid-body.
            end = end with { Failure = HttpFailure.Request, Message = e.Message };
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "A relayed Http request of run {RunId} failed", frame.RunId);
            end = end with { Failure = HttpFailure.Request, Message = $"{e.GetType().Name}: {e.Message}" };
        }
        finally
        {
            if (chunk is not null) ArrayPool<byte>.Shared.Return(chunk);
        }
        inFlight.TryRemove(frame.RequestId, out _);
        request.Cancellation.Dispose();
        try
        {
            end.Write(output);
        }
        catch (IOException)
        {
            // The runner is gone.
        }
    }

    private HttpRequestException TooLarge() =>
        new(HttpRequestError.Unknown, $"The response is larger than {limits.MaxBytes} bytes " +
            $"({HandlerHttpLimits.MaxBytesVariable}): not read further.");

    /// <summary>
    /// The request as the handler built it; a method, URI or header that HttpClient would refuse throws as it would.
    /// </summary>
    private static HttpRequestMessage Message(HttpRequestFrame frame)
    {
        if (!Uri.TryCreate(frame.Uri, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"'{frame.Uri}' is not an absolute http or https URI.");
        var message = new HttpRequestMessage(new HttpMethod(frame.Method), uri);
        if (frame.Body is { } body) message.Content = new ReadOnlyMemoryContent(body);
        foreach (var (name, value) in frame.Headers)
        {
            if (message.Headers.TryAddWithoutValidation(name, value)) continue;
            message.Content ??= new ReadOnlyMemoryContent(ReadOnlyMemory<byte>.Empty);
            if (!message.Content.Headers.TryAddWithoutValidation(name, value))
            {
                message.Dispose();
                throw new ArgumentException($"'{name}' is not a valid request header name.");
            }
        }
        return message;
    }

    private sealed record InFlight(long RunId, CancellationTokenSource Cancellation)
    {
        public void Cancel()
        {
            try
            {
                Cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It ended meanwhile.
            }
        }
    }
}
