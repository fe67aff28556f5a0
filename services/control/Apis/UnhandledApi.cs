using Workq.Shared;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

public sealed record UnhandledView(string Worker, long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, string Sample, long Dropped);

/// <summary>The unhandled ("404") list: names that were emitted to but have no worker, with their parked events.</summary>
public static class UnhandledApi
{
    public static IEndpointRouteBuilder MapUnhandledApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/canvases/{canvas}/unhandled", async (string canvas, HttpContext http, AccessControl access, UnhandledStore store, CancellationToken cancellationToken) =>
        {
            if (await access.AuthorizeCanvasAsync(http, canvas) is { } denied) return denied;
            var list = await store.ListAsync(canvas, cancellationToken);
            return Results.Ok(list.Select(u => new UnhandledView(u.Worker, u.Count, u.FirstSeen, u.LastSeen, u.Sample, u.Dropped)));
        });
        app.MapDelete("/v1/canvases/{canvas}/unhandled/{worker}", async (string canvas, string worker, HttpContext http, AccessControl access, UnhandledStore store, CancellationToken cancellationToken) =>
        {
            if (await access.AuthorizeCanvasAsync(http, canvas) is { } denied) return denied;
            if (!Names.IsValid(worker)) return Problems.BadName("worker", worker);
            await store.DropAsync(canvas, worker, cancellationToken);
            return Results.NoContent();
        });
        return app;
    }
}
