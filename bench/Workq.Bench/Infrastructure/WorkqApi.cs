using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Workq.Bench.Infrastructure;

/// <summary>
/// The control and emit APIs as the bench uses them, always with the admin token (it acts on every canvas).
/// </summary>
public sealed class WorkqApi(HttpClient http, Uri control, Uri emitter, string adminToken)
{
    public HttpClient Http => http;

    public async Task CreateCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        await SendAsync(
            HttpMethod.Post,
            new Uri(control, "v1/canvases"),
            new JsonObject { ["name"] = canvas }.ToJsonString(),
            HttpStatusCode.Created,
            cancellationToken);

    public async Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Delete, new Uri(control, $"v1/canvases/{canvas}"));
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureAsync(response, HttpStatusCode.NoContent, cancellationToken);
    }

    public async Task DeployAsync(
        string canvas,
        string worker,
        string code,
        int concurrency,
        CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Put, new Uri(control, $"v1/canvases/{canvas}/workers/{worker}"),
            new JsonObject { ["code"] = code, ["concurrency"] = concurrency }
                .ToJsonString(), HttpStatusCode.Created, cancellationToken);

    /// <summary>The worker's <c>stats.processed</c> counter (written by the worker instance every 250 ms).</summary>
    public async Task<long> ProcessedAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        using var document = await GetJsonAsync(
            new Uri(control, $"v1/canvases/{canvas}/workers/{worker}"),
            cancellationToken);
        return document.RootElement.GetProperty("stats").GetProperty("processed").GetInt64();
    }

    /// <summary>The sum of <c>stats.processed</c> over a canvas's workers, in one list request.</summary>
    public async Task<long> CanvasProcessedAsync(string canvas, CancellationToken cancellationToken)
    {
        using var document = await GetJsonAsync(ListUrl(canvas), cancellationToken);
        return document.RootElement.EnumerateArray()
            .Sum(w => w.GetProperty("stats").GetProperty("processed").GetInt64());
    }

    public Uri ListUrl(string canvas) => new(control, $"v1/canvases/{canvas}/workers");

    public Uri BatchUrl(string canvas) => new(emitter, $"v1/canvases/{canvas}/events");

    public Uri BatchesUrl(string canvas) => new(emitter, $"v1/canvases/{canvas}/batches");

    public Uri BatchUrlOf(string canvas, Guid id, int wait) =>
        new(control, $"v1/canvases/{canvas}/batches/{id}?wait={wait}");

    public Uri EventUrl(string canvas, Guid id, int wait) =>
        new(control, $"v1/canvases/{canvas}/events/{id}?wait={wait}");

    /// <summary>POSTs JSON with the admin token; the answer must be 202, and is returned.</summary>
    public async Task<JsonDocument> PostJsonAsync(Uri url, string json, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Post, url);
        request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureAsync(response, HttpStatusCode.Accepted, cancellationToken);
        return await JsonDocument.ParseAsync(
            await response.Content.ReadAsStreamAsync(cancellationToken),
            cancellationToken: cancellationToken);
    }

    public Uri SingleUrl(string canvas, string worker) => new(emitter, $"v1/canvases/{canvas}/workers/{worker}/events");

    /// <summary>POSTs prepared JSON bytes with the admin token; the answer must be 202.</summary>
    public async Task EmitAsync(Uri url, byte[] body, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Post, url, new ByteArrayContent(body), HttpStatusCode.Accepted, cancellationToken);

    public async Task<JsonDocument> GetJsonAsync(Uri url, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, url);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureAsync(response, HttpStatusCode.OK, cancellationToken);
        return await JsonDocument.ParseAsync(
            await response.Content.ReadAsStreamAsync(cancellationToken),
            cancellationToken: cancellationToken);
    }

    /// <summary>A POST without a body (pause, resume) with the admin token; the answer must be 200.</summary>
    public Task PostAsync(Uri url, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, url, "{}", HttpStatusCode.OK, cancellationToken);

    private Task SendAsync(
        HttpMethod method,
        Uri url,
        string json,
        HttpStatusCode expect,
        CancellationToken cancellationToken) =>
        SendAsync(method, url, new StringContent(json, Encoding.UTF8), expect, cancellationToken);

    private async Task SendAsync(
        HttpMethod method,
        Uri url,
        HttpContent content,
        HttpStatusCode expect,
        CancellationToken cancellationToken)
    {
        using var request = Request(method, url);
        request.Content = content;
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureAsync(response, expect, cancellationToken);
    }

    private HttpRequestMessage Request(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        return request;
    }

    private static async Task EnsureAsync(
        HttpResponseMessage response,
        HttpStatusCode expect,
        CancellationToken cancellationToken)
    {
        if (response.StatusCode == expect) return;
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        throw new HttpRequestException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} " +
            $"answered {(int)response.StatusCode}, expected {(int)expect}: {body}");
    }

    /// <summary>
    /// A client for load: enough pooled connections for every concurrent caller, no per-request time-out surprises.
    /// </summary>
    public static HttpClient CreateLoadClient(int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    })
    { Timeout = TimeSpan.FromSeconds(60) };
}
