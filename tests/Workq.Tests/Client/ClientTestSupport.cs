using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Workq.Client;
using Workq.Tests.Infrastructure;

namespace Workq.Tests.Client;

/// <summary>Retries fast in tests: the delays under test are the server's Retry-After, not the backoff.</summary>
public static class FastRetry
{
    public static WorkqRetryOptions Options => new() { MaxRetryAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) };

    public static WorkqClient Emitter(WorkqCluster cluster, string token, HttpMessageHandler? handler = null) =>
        new(cluster.Emitter.Url, token, handler is null ? null : new HttpClient(handler), Options);

    public static WorkqControlClient Control(WorkqCluster cluster, string? token = null) =>
        new(cluster.Control.Url, token ?? cluster.AdminToken, retry: Options);
}

/// <summary>Where a simulated 503 strikes: before the emitter sees the request, or after it answered (the answer is lost).</summary>
public enum FailurePoint { BeforeForwarding, AfterForwarding }

/// <summary>
/// Fails the first request with 503 + Retry-After: 0, the way an emitter whose broker did not confirm
/// answers (or a proxy that lost the emitter's answer), and passes the rest through.
/// </summary>
public sealed class FirstAttemptFails(FailurePoint point) : DelegatingHandler(new SocketsHttpHandler())
{
    private int attempts;

    public ConcurrentQueue<string?> IdempotencyKeys { get; } = new();
    public ConcurrentQueue<string> RequestBodies { get; } = new();

    /// <summary>What the emitter answered to the request whose answer was lost (AfterForwarding).</summary>
    public string? LostAnswer { get; private set; }

    public int Attempts => attempts;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        IdempotencyKeys.Enqueue(request.Headers.TryGetValues("Idempotency-Key", out var keys) ? keys.Single() : null);
        RequestBodies.Enqueue(request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken));
        if (Interlocked.Increment(ref attempts) > 1) return await base.SendAsync(request, cancellationToken);

        if (point == FailurePoint.AfterForwarding)
        {
            using var delivered = await base.SendAsync(request, cancellationToken);
            Assert.Equal(HttpStatusCode.Accepted, delivered.StatusCode);
            LostAnswer = await delivered.Content.ReadAsStringAsync(cancellationToken);
        }
        return Unavailable();
    }

    public static HttpResponseMessage Unavailable() =>
        Problem(HttpStatusCode.ServiceUnavailable, "Service unavailable", "The broker did not confirm.", TimeSpan.Zero);

    /// <summary>A problem+json answer as the services give it, with a Retry-After when one is given.</summary>
    public static HttpResponseMessage Problem(HttpStatusCode status, string title, string detail, TimeSpan? retryAfter)
    {
        var response = new HttpResponseMessage(status)
        {
            Content = new StringContent(new System.Text.Json.Nodes.JsonObject { ["type"] = "about:blank", ["title"] = title, ["status"] = (int)status, ["detail"] = detail }.ToJsonString(),
                Encoding.UTF8, "application/problem+json"),
        };
        if (retryAfter is { } delay) response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
        return response;
    }
}

/// <summary>
/// Answers from a script instead of a server, recording each request: for the control routes of
/// API.md that other branches are still building (dead letters, purge, un-enqueue, crons).
/// </summary>
public sealed class ScriptedHandler(Func<HttpRequestMessage, string, HttpResponseMessage> answer) : HttpMessageHandler
{
    public List<(HttpMethod Method, string Path, string Body)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Add((request.Method, request.RequestUri!.AbsolutePath, body));
        return answer(request, body);
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
}
