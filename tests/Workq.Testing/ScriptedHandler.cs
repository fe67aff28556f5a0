using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Workq.Testing;

/// <summary>
/// Answers from a script instead of a server, recording each request: for the client and the CLI against the shapes
/// docs/API.md promises, and for the answers a service gives under faults.
/// </summary>
public sealed class ScriptedHandler(Func<HttpRequestMessage, string, HttpResponseMessage> answer) : HttpMessageHandler
{
    public List<(HttpMethod Method, string Path, string Body)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(
        HttpRequestMessage request,
        CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Add((request.Method, request.RequestUri!.AbsolutePath, body));
        return answer(request, body);
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    /// <summary>The 503 + Retry-After: 0 an emitter whose broker did not confirm answers.</summary>
    public static HttpResponseMessage Unavailable() =>
        Problem(HttpStatusCode.ServiceUnavailable, "Service unavailable", "The broker did not confirm.", TimeSpan.Zero);

    /// <summary>A problem+json answer as the services give it, with a Retry-After when one is given.</summary>
    public static HttpResponseMessage Problem(HttpStatusCode status, string title, string detail, TimeSpan? retryAfter)
    {
        var response = new HttpResponseMessage(status)
        {
            Content = new StringContent(new JsonObject
            {
                ["type"] = "about:blank",
                ["title"] = title,
                ["status"] = (int)status,
                ["detail"] = detail
            }.ToJsonString(),
                Encoding.UTF8, "application/problem+json"),
        };
        if (retryAfter is { } delay) response.Headers.RetryAfter = new RetryConditionHeaderValue(delay);
        return response;
    }
}
