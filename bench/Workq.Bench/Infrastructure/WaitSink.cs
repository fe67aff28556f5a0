using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Workq.Bench.Infrastructure;

/// <summary>
/// Where the queue-wait handler reports: each POST body is a batch of numbers, one per line, the
/// milliseconds from <c>Meta.EnqueuedAt</c> to the handler's first line, measured inside the worker.
/// Every event is reported (the traces keep only ten per worker, too few for a p99).
/// </summary>
public sealed class WaitSink(WebApplication app, Uri url, ConcurrentQueue<double> waits) : IAsyncDisposable
{
    public Uri Url { get; } = url;
    public int Count => waits.Count;
    public Uri PingUrl => new(Url, "ping");

    public static async Task<WaitSink> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // 127.0.0.2: the one loopback address the bench lets handler code reach (WORKQ_HANDLER_HTTP_ALLOW).
        builder.WebHost.UseUrls("http://127.0.0.2:0");
        var app = builder.Build();
        var waits = new ConcurrentQueue<double>();
        app.MapPost("/wait", (HttpRequest request) => ReceiveAsync(request, waits));
        // What the Http probe calls: the least a server can answer, so that the time measured is the client's.
        app.MapGet("/ping", () => Results.Text("pong"));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First();
        return new WaitSink(app, new Uri(address + "/wait"), waits);
    }

    private static async Task<IResult> ReceiveAsync(HttpRequest request, ConcurrentQueue<double> waits)
    {
        using var reader = new StreamReader(request.Body);
        var lines = (await reader.ReadToEndAsync(request.HttpContext.RequestAborted)).Split(
            '\n',
            StringSplitOptions.RemoveEmptyEntries);
        var parsed = new List<double>(lines.Length);
        foreach (var line in lines)
        {
            if (!double.TryParse(line, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms)) return Results
                .BadRequest();
            parsed.Add(ms);
        }
        foreach (var ms in parsed) waits.Enqueue(ms);
        return Results.NoContent();
    }

    /// <summary>Takes what arrived so far and starts afresh (drops the warm-up).</summary>
    public List<double> Drain()
    {
        var taken = new List<double>(waits.Count);
        while (waits.TryDequeue(out var ms)) taken.Add(ms);
        return taken;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
