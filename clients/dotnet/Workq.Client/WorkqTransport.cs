using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Workq.Client;

/// <summary>
/// What both clients share: base address, bearer token, JSON, problem+json errors, and the retry
/// pipeline. A request is rebuilt for every attempt (a sent HttpRequestMessage cannot be sent again),
/// with the same body and the same idempotency key.
/// </summary>
internal sealed class WorkqTransport : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    private readonly Uri baseUrl;
    private readonly AuthenticationHeaderValue authorization;
    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly ResiliencePipeline<HttpResponseMessage> retrying;

    public WorkqTransport(Uri baseUrl, string token, HttpClient? http, WorkqRetryOptions? retry)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        if (!baseUrl.IsAbsoluteUri) throw new ArgumentException(
            $"The service address must be absolute, not '{baseUrl}'.",
            nameof(baseUrl));
        // A trailing slash makes relative routes append to a base path instead of replacing its last segment.
        this.baseUrl = new Uri(baseUrl.AbsoluteUri.TrimEnd('/') + "/");
        authorization = new AuthenticationHeaderValue("Bearer", token);
        ownsHttp = http is null;
        this.http = http ?? new HttpClient();
        retrying = BuildPipeline(retry ?? new WorkqRetryOptions());
    }

    public static string Path(params string[] segments) => string.Join('/', segments.Select(Uri.EscapeDataString));

    public static byte[] Serialize(object? value) => JsonSerializer.SerializeToUtf8Bytes(value, WorkqJson.Options);

    /// <summary>Sends and reads the JSON answer; error answers become <see cref="WorkqException"/>.</summary>
    public async Task<T> SendAsync<T>(
        HttpMethod method,
        string path,
        byte[]? body,
        bool retry,
        CancellationToken cancellationToken,
        string? idempotencyKey = null) =>
        (await SendReadingHeaderAsync<T>(method, path, body, retry, header: null, idempotencyKey, cancellationToken))
            .Value;

    /// <summary>
    /// Sends and reads the JSON answer and one response header (null when absent), e.g. a paged list's next cursor.
    /// </summary>
    public async Task<(T Value, string? Header)> SendReadingHeaderAsync<T>(
        HttpMethod method,
        string path,
        byte[]? body,
        bool retry,
        string? header,
        string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(method, path, body, retry, idempotencyKey, cancellationToken);
        var value = await JsonSerializer.DeserializeAsync<T>(
            await response.Content.ReadAsStreamAsync(cancellationToken),
            WorkqJson.Options,
            cancellationToken)
                    ?? throw new JsonException(
                        $"{method} {path} answered {(int)response.StatusCode} with a null body.");
        return (value, header is not null && response.Headers.TryGetValues(header, out var values)
            ? values.FirstOrDefault()
            : null);
    }

    /// <summary>Sends where the answer has no body worth reading (204, 202).</summary>
    public async Task SendAsync(
        HttpMethod method,
        string path,
        byte[]? body,
        bool retry,
        CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(method, path, body, retry, idempotencyKey: null, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendCoreAsync(
        HttpMethod method,
        string path,
        byte[]? body,
        bool retry,
        string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        var pipeline = retry ? retrying : ResiliencePipeline<HttpResponseMessage>.Empty;
        var response = await pipeline.ExecuteAsync(async attemptToken =>
        {
            using var request = new HttpRequestMessage(method, new Uri(baseUrl, path));
            request.Headers.Authorization = authorization;
            if (idempotencyKey is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
            if (body is not null) request.Content = new ByteArrayContent(body)
            {
                Headers = { ContentType = JsonMediaType }
            };
            return await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, attemptToken);
        }, cancellationToken);
        if (response.IsSuccessStatusCode) return response;
        using (response) throw await WorkqException.FromResponseAsync(response, cancellationToken);
    }

    private static ResiliencePipeline<HttpResponseMessage> BuildPipeline(WorkqRetryOptions options)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    // HttpClient.Timeout: a TaskCanceledException that the caller did not ask for.
                    .Handle<TaskCanceledException>(e => e.InnerException is TimeoutException)
                    .HandleResult(r
                        => r.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway
                            or HttpStatusCode.GatewayTimeout
                        // Over the canvas's emit rate: nothing was enqueued, and Retry-After says when the bucket has
                        // room. A 429 without it (a full queue) waits for the worker to drain, which is no client
                        // retry's business.
                        || (r.StatusCode == HttpStatusCode.TooManyRequests && r.Headers.RetryAfter is not null)),
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                // The server knows best how long it needs (Retry-After on 503 and 429); otherwise the backoff above.
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, options.MaxRetryAfter)),
            });
        }
        return builder.AddTimeout(options.AttemptTimeout).Build();
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeSpan cap)
    {
        var delay = response?.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        return delay is { } d ? TimeSpan.FromTicks(Math.Clamp(d.Ticks, 0, cap.Ticks)) : null;
    }

    public void Dispose()
    {
        if (ownsHttp) http.Dispose();
    }
}

internal static class WorkqJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
