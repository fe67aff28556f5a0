using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Workq.Tests.Infrastructure;

/// <summary>
/// A small HTTP server the handlers under test call through their <c>Http</c>, so a test can see every
/// single run (the traces keep only ten): each POST body is recorded.
/// </summary>
public sealed class CallbackSink : IAsyncDisposable
{
    private readonly WebApplication app;

    public ConcurrentQueue<string> Calls { get; } = new();
    public Uri Url { get; }

    private CallbackSink(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public static async Task<CallbackSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        CallbackSink? sink = null;
        app.MapPost("/", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            sink!.Calls.Enqueue(await reader.ReadToEndAsync());
            return Results.Ok();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sink = new CallbackSink(app, new Uri(address + "/"));
        return sink;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
