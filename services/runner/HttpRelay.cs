using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using Workq.Shared.Handlers.Isolation;

namespace Workq.Runner;

/// <summary>
/// The runner's half of a handler's <c>Http</c>. The runner has no network: each request goes to the supervisor as an
/// <see cref="HttpRequestFrame"/>, which makes it with the canvas's connection pool and the egress policy and streams
/// the answer back. The handler sees an ordinary <see cref="HttpClient"/>: the same API, the same exceptions.
/// </summary>
public sealed class HttpRelay(FrameOutput output, int concurrency, int maxBodyBytes)
{
    /// <summary>What <c>WORKQ_HANDLER_HTTP_MAX_BYTES</c> bounds, for the messages that name it.</summary>
    public const string MaxBytesVariable = "WORKQ_HANDLER_HTTP_MAX_BYTES";

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    // The supervisor bounds a response; the pipe must never make the channel's reading thread wait.
    private static readonly PipeOptions BodyPipe = new(
        pauseWriterThreshold: 0,
        resumeWriterThreshold: 0,
        useSynchronizationContext: false);

    private readonly ConcurrentDictionary<int, Exchange> exchanges = new();
    // The supervisor allows this many requests of a runner at once: more wait here, in the handler's own runner.
    private readonly SemaphoreSlim slots = new(concurrency, concurrency);
    private int lastRequestId;

    /// <summary>
    /// A run's client: its requests carry the run's id, the supervisor's only way to know whose they are.
    /// </summary>
    public HttpClient ClientFor(long runId)
        => new(new RunHandler(this, runId), disposeHandler: true) { Timeout = RequestTimeout };

    public void OnResponse(HttpResponseFrame frame)
    {
        if (exchanges.TryGetValue(frame.RequestId, out var exchange)) exchange.Respond(frame);
    }

    public void OnBody(HttpBodyFrame frame)
    {
        if (exchanges.TryGetValue(frame.RequestId, out var exchange)) exchange.Append(frame.Chunk.Span);
    }

    public void OnEnd(HttpEndFrame frame)
    {
        if (!exchanges.TryRemove(frame.RequestId, out var exchange)) return;
        exchange.End(frame);
        slots.Release();
    }

    private async Task<HttpResponseMessage> SendAsync(
        long runId,
        HttpRequestMessage request,
        CancellationToken cancellationToken)
    {
        if (request.RequestUri is not { IsAbsoluteUri: true } uri
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new InvalidOperationException(
                "An absolute http or https request URI (or a BaseAddress) is required.");
        var body = request.Content is { } content ? await ReadBodyAsync(content, cancellationToken) : null;
        await slots.WaitAsync(cancellationToken);
        var id = Interlocked.Increment(ref lastRequestId);
        var exchange = new Exchange(request, () => Cancel(id));
        exchanges[id] = exchange;
        try
        {
            new HttpRequestFrame(
                runId,
                id,
                request.Method.Method,
                uri.AbsoluteUri,
                Headers(request),
                body is null ? null : (ReadOnlyMemory<byte>?)body).Write(output);
        }
        catch (IOException e)
        {
            // The supervisor is gone: this runner ends as soon as its reader notices.
            OnEnd(new HttpEndFrame(id, HttpFailure.Request, e.Message));
        }
        exchange.Watch(cancellationToken);
        return await exchange.Head.Task;
    }

    private void Cancel(int id)
    {
        try
        {
            new HttpCancelFrame(id).Write(output);
        }
        catch (IOException)
        {
            // The supervisor is gone.
        }
    }

    private async Task<byte[]> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > maxBodyBytes) throw TooLarge(content.Headers.ContentLength.Value);
        try
        {
            await content.LoadIntoBufferAsync(maxBodyBytes, cancellationToken);
        }
        catch (HttpRequestException)
        {
            throw TooLarge(null);
        }
        return await content.ReadAsByteArrayAsync(cancellationToken);
    }

    private HttpRequestException TooLarge(long? length) =>
        new(HttpRequestError.Unknown, $"The request body{(length is null ? "" : $" of {length} bytes")} is larger " +
            $"than {maxBodyBytes} bytes ({MaxBytesVariable}).");

    private static List<KeyValuePair<string, string>> Headers(HttpRequestMessage request)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Headers)
            foreach (var value in values) headers.Add(new(name, value));
        if (request.Content is { } content)
            foreach (var (name, values) in content.Headers)
                foreach (var value in values) headers.Add(new(name, value));
        return headers;
    }

    private sealed class RunHandler(HttpRelay relay, long runId) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(
            HttpRequestMessage request,
            CancellationToken cancellationToken) =>
            relay.SendAsync(runId, request, cancellationToken);
    }

    /// <summary>One request in flight: its response head once it comes, and its body as the chunks arrive.</summary>
    private sealed class Exchange(HttpRequestMessage request, Action cancel)
    {
        private readonly Pipe body = new(BodyPipe);
        private readonly Action cancel = cancel;
        private CancellationTokenRegistration watching;
        private int cancelled;

        public TaskCompletionSource<HttpResponseMessage> Head { get; }
            = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>
        /// The handler's token (its run's time-out, its own) ends the request on both sides; the supervisor still ends
        /// it.
        /// </summary>
        public void Watch(CancellationToken cancellationToken)
        {
            if (!cancellationToken.CanBeCanceled) return;
            watching = cancellationToken.Register(static (state, token) =>
            {
                var exchange = (Exchange)state!;
                if (Interlocked.Exchange(ref exchange.cancelled, 1) != 0) return;
                exchange.Head.TrySetCanceled(token);
                exchange.cancel();
            }, this);
        }

        public void Respond(HttpResponseFrame frame)
        {
            var response = new HttpResponseMessage((HttpStatusCode)frame.Status)
            {
                ReasonPhrase = frame.Reason,
                Version = frame.Version,
                RequestMessage = request,
                Content = new StreamContent(body.Reader.AsStream()),
            };
            if (frame.RequestUri is { } uri && Uri.TryCreate(uri, UriKind.Absolute, out var final)) request.RequestUri
                = final;
            foreach (var (name, value) in frame.Headers)
                if (!response.Headers.TryAddWithoutValidation(name, value)) response.Content.Headers
                    .TryAddWithoutValidation(name, value);
            if (!Head.TrySetResult(response)) response.Dispose();
        }

        public void Append(ReadOnlySpan<byte> chunk)
        {
            body.Writer.Write(chunk);
            // Never waits: the pipe has no pause threshold.
            var flushed = body.Writer.FlushAsync();
            if (!flushed.IsCompleted) _ = flushed.AsTask();
        }

        public void End(HttpEndFrame frame)
        {
            watching.Dispose();
            Exception? failure = frame.Failure switch
            {
                HttpFailure.None => null,
                HttpFailure.Cancelled => new TaskCanceledException(frame.Message ?? "The request was cancelled."),
                _ => new HttpRequestException(frame.Error, frame.Message),
            };
            if (failure is null)
            {
                body.Writer.Complete();
                Head.TrySetException(
                    new HttpRequestException(
                        HttpRequestError.InvalidResponse,
                        "The request ended without a response."));
                return;
            }
            // Not an IOException: HttpClient passes other exceptions from a body read on as they are, so the handler
            // reads the cause.
            if (!Head.TrySetException(failure)) body.Writer.Complete(failure);
        }
    }
}
