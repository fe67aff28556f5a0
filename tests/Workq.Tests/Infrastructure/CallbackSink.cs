using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Workq.Tests.Infrastructure;

/// <summary>
/// A small HTTP server the handlers under test call through their <c>Http</c>, so a test can see every
/// single run (the traces keep only ten): each POST body is recorded.
/// </summary>
public sealed class CallbackSink : IAsyncDisposable
{
    private readonly WebApplication app;

    public ConcurrentQueue<string> Calls { get; } = new();
    /// <summary>
    /// When each body first arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), for queue waits.
    /// </summary>
    public ConcurrentDictionary<string, long> FirstSeen { get; } = new();
    public Uri Url { get; }

    private CallbackSink(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public static async Task<CallbackSink> StartAsync()
    {
        CallbackSink? sink = null;
        var (app, url) = await LocalServer.StartAsync(app => app.MapPost("/", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            sink!.FirstSeen.TryAdd(body, System.Diagnostics.Stopwatch.GetTimestamp());
            sink.Calls.Enqueue(body);
            return Results.Ok();
        }));
        sink = new CallbackSink(app, url);
        return sink;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
