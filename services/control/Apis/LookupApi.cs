using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Shared.Handlers;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// Event lookup: where an event id is known on a canvas. It asks the stores that keep events by id (traces, dead
/// letters, unhandled, cancelled); queues are not searched (that would mean consuming them), nor the events running
/// right now. Not <c>GET .../events/{id}</c>: that path is kept for the event-status route.
/// </summary>
public static class LookupApi
{
    public const string QueuedNote =
        "Queued and running events are not searched: a queue cannot be read by id without consuming it.";
    public const string NotFoundNote =
        "Not found in the kept traces, dead letters or unhandled events; traces keep the last 10 runs per worker. "
            + QueuedNote;

    public static RouteGroupBuilder MapLookupApi(this RouteGroupBuilder canvas)
    {
        canvas.MapGet("/lookup/{id}", LookupAsync);
        return canvas;
    }

    private static async Task<Results<Ok<LookupResponse>, ProblemHttpResult>> LookupAsync(
        string canvas,
        string id,
        ITraceStore traces,
        DeadLetterStore deadLetters,
        UnhandledStore unhandled,
        CancelledEventStore cancelled,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var eventId)) return Problems.BadRequest($"'{id}' is not an event id (a GUID).");

        // Four indexed reads, side by side on pooled connections.
        var traced = traces.FindAsync(canvas, eventId, cancellationToken);
        var dead = deadLetters.FindAsync(canvas, eventId, cancellationToken);
        var parked = unhandled.FindAsync(canvas, eventId, cancellationToken);
        var unEnqueued = cancelled.FindAsync(canvas, eventId, cancellationToken);
        await Task.WhenAll(traced, dead, parked, unEnqueued);

        var found = new List<LookupHit>();
        found.AddRange(
            (await traced).Select(t => new LookupHit("trace", t.Worker, Trace: JsonText.ParseOrString(t.Json))));
        found.AddRange((await dead).Select(d => new LookupHit("deadLetter", d.Worker, DeadLetter: d.Letter)));
        found.AddRange((await parked).Select(
            p => new LookupHit("unhandled", p.Worker, Unhandled: new ParkedView(p.Event, p.EnqueuedAt, p.ReceivedAt))));
        if (await unEnqueued is { } c) found.Add(new LookupHit("cancelled", c.Worker, CancelledAt: c.CancelledAt));
        return TypedResults.Ok(new LookupResponse(eventId, found, found.Count == 0 ? NotFoundNote : QueuedNote));
    }
}
