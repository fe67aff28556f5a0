using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// The unhandled ("404") list: names that were emitted to but have no worker, with their parked events.
/// </summary>
public static class UnhandledApi
{
    public static RouteGroupBuilder MapUnhandledApi(this RouteGroupBuilder canvas)
    {
        canvas.MapGet("/unhandled", async (string canvas, UnhandledStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok((await store.ListAsync(canvas, cancellationToken)).Select(
                u => new UnhandledView(u.Worker, u.Count, u.FirstSeen, u.LastSeen, u.Sample, u.Dropped))));
        canvas.MapDelete("/unhandled/{worker}", async (string canvas, string worker, UnhandledStore store,
            CancellationToken cancellationToken) =>
        {
            await store.DropAsync(canvas, worker, cancellationToken);
            return TypedResults.NoContent();
        });
        return canvas;
    }
}
