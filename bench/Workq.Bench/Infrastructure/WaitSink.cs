using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Workq.Bench.Infrastructure;

/// <summary>
/// Where the queue-wait handler reports: each POST body is a batch of lines, each the milliseconds from
/// <c>Meta.EnqueuedAt</c> to the handler's first line, measured inside the worker, and optionally, after a space, that
/// enqueue time in Unix milliseconds. Every event is reported (the traces keep only ten per worker, too few for a p99).
/// </summary>
public sealed class WaitSink(WebApplication app, Uri url, ConcurrentQueue<QueueWait> waits) : IAsyncDisposable
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
        var waits = new ConcurrentQueue<QueueWait>();
        app.MapPost("/wait", (HttpRequest request) => ReceiveAsync(request, waits));
        // What the Http probe calls: the least a server can answer, so that the time measured is the client's.
        app.MapGet("/ping", () => Results.Text("pong"));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First();
        return new WaitSink(app, new Uri(address + "/wait"), waits);
    }

    private static async Task<IResult> ReceiveAsync(HttpRequest request, ConcurrentQueue<QueueWait> waits)
    {
        using var reader = new StreamReader(request.Body);
        var lines = (await reader.ReadToEndAsync(request.HttpContext.RequestAborted)).Split(
            '\n',
            StringSplitOptions.RemoveEmptyEntries);
        var parsed = new List<QueueWait>(lines.Length);
        foreach (var line in lines)
        {
            var fields = line.Split(' ');
            if (!double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
                return Results.BadRequest();
            long at = 0;
            if (fields.Length > 1 && !long.TryParse(fields[1], CultureInfo.InvariantCulture, out at)) return Results
                .BadRequest();
            parsed.Add(new QueueWait(ms, at));
        }
        foreach (var wait in parsed) waits.Enqueue(wait);
        return Results.NoContent();
    }

    /// <summary>Takes what arrived so far and starts afresh (drops the warm-up).</summary>
    public List<QueueWait> Drain()
    {
        var taken = new List<QueueWait>(waits.Count);
        while (waits.TryDequeue(out var wait)) taken.Add(wait);
        return taken;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
