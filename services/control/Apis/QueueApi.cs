using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Shared.ControlPlane;
using Workq.Shared.Http;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>What is in a worker's queue and beside it: un-enqueue, purge, and the dead letters.</summary>
public static class QueueApi
{
    public static RouteGroupBuilder MapQueueApi(this RouteGroupBuilder canvas)
    {
        var worker = canvas.MapGroup("/workers/{worker}");
        worker.MapDelete("/events/{id}", UnEnqueueAsync);
        worker.MapDelete("/events", PurgeAsync);
        worker.MapGet("/dead-letters", ListDeadLettersAsync);
        worker.MapPost("/dead-letters/redrive", RedriveAsync).ProducesProblem(StatusCodes.Status429TooManyRequests);
        worker.MapDelete("/dead-letters", DiscardAsync);
        return canvas;
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> UnEnqueueAsync(
        [AsParameters] EventRoute route,
        HttpContext http,
        WorkerCommands commands,
        Events.EventCancels cancels,
        CancellationToken cancellationToken)
    {
        if (await commands.MissingAsync(route.WorkerRoute, cancellationToken) is { } missing) return missing;
        if (!Guid.TryParse(route.Id, out var eventId)) return Problems.BadRequest(
            $"'{route.Id}' is not an event id (a GUID).");
        // A run under way finishes (by: null): stopping it is what POST .../events/{id}/cancel does.
        await cancels.CancelAsync(route.Canvas, http.CanvasIncarnation(), route.Worker, eventId, by: null,
            cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Results<Ok<PurgedResponse>, ProblemHttpResult>> PurgeAsync(
        [AsParameters] WorkerRoute route,
        WorkerCommands commands,
        Topology topology,
        ScheduledEventStore scheduled,
        CancellationToken cancellationToken)
    {
        if (await commands.FindAsync(route, cancellationToken) is not { } worker) return WorkerCommands.NoSuchWorker(
            route);
        // The scheduled ones first: one due meanwhile is then in the queue when it is purged.
        var delayed = await scheduled.PurgeAsync(route.Canvas, route.Worker, cancellationToken);
        var queued = await topology.PurgeWorkerAsync(
            route.Canvas,
            route.Worker,
            worker.OrderingLanes,
            worker.PriorityQueues,
            cancellationToken);
        return TypedResults.Ok(new PurgedResponse(delayed + queued));
    }

    /// <summary>
    /// The body stays the plain array it always was; the next page is in the <c>Link</c> (rel="next") and
    /// <c>X-Next-Cursor</c> headers, so clients that ignore paging keep working.
    /// </summary>
    private static async Task<Results<Ok<IReadOnlyList<DeadLetter>>, ProblemHttpResult>> ListDeadLettersAsync(
        [AsParameters] WorkerRoute route, [AsParameters] DeadLetterQuery query, [AsParameters] PageQuery paging,
            HttpContext http,
        WorkerCommands commands, DeadLetterStore deadLetters, CancellationToken cancellationToken)
    {
        if (await commands.MissingAsync(route, cancellationToken) is { } missing) return missing;
        if (query.Parse(out var filter) is { } badFilter) return badFilter;
        if (paging.ParseLimit(out var limit) is { } badLimit) return badLimit;
        PageCursor? after = null;
        if (paging.Cursor is { } cursorText && (after = PageCursor.TryDecode(cursorText)) is null)
            return PageQuery.BadCursor;

        var page = await deadLetters.SearchAsync(route.Canvas, route.Worker, filter, after, limit, cancellationToken);
        if (page.Next is { } next) PageQuery.LinkNext(http, next.Encode());
        return TypedResults.Ok(page.Items);
    }

    private static async Task<Results<Ok<RedrivenResponse>, ProblemHttpResult>> RedriveAsync(
        [AsParameters] WorkerRoute route, [AsParameters] DeadLetterQuery query, WorkerCommands commands,
            DeadLetterStore deadLetters,
        EventPublisher publisher, EventStatusRecorder statuses, CancellationToken cancellationToken)
    {
        if (await commands.FindAsync(route, cancellationToken) is not { } worker) return WorkerCommands.NoSuchWorker(
            route);
        if (query.Parse(out var filter) is { } badFilter) return badFilter;
        // A redriven dead letter starts again: queued, attempt 1, whatever its status said.
        var redriven = await deadLetters.RedriveAsync(worker, filter, async e =>
        {
            await publisher.PublishAsync(e.Envelope, e.Body, cancellationToken);
            statuses.Record(EventStatusUpdate.Queued(e.Envelope, restartedAt: DateTimeOffset.UtcNow));
        }, cancellationToken);
        return TypedResults.Ok(new RedrivenResponse(redriven));
    }

    private static async Task<Results<Ok<DiscardedResponse>, ProblemHttpResult>> DiscardAsync(
        [AsParameters] WorkerRoute route, [AsParameters] DeadLetterQuery query, WorkerCommands commands,
            DeadLetterStore deadLetters,
        CancellationToken cancellationToken)
    {
        if (await commands.MissingAsync(route, cancellationToken) is { } missing) return missing;
        if (query.Parse(out var filter) is { } badFilter) return badFilter;
        return TypedResults.Ok(
            new DiscardedResponse(
                await deadLetters.DiscardAsync(route.Canvas, route.Worker, filter, cancellationToken)));
    }
}
