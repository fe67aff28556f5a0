using MassTransit;
using Workq.Shared.ControlPlane;
using Workq.Shared.Http;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

public sealed record PurgedResponse(long Purged);
public sealed record RedrivenResponse(int Redriven);
public sealed record DiscardedResponse(int Discarded);

/// <summary>What is in a worker's queue and beside it: un-enqueue, purge, and the dead letters.</summary>
public static class QueueApi
{
    public static IEndpointRouteBuilder MapQueueApi(this IEndpointRouteBuilder app)
    {
        var worker = app.MapGroup("/v1/canvases/{canvas}/workers/{worker}");
        worker.MapDelete("/events/{id}", UnEnqueueAsync);
        worker.MapDelete("/events", PurgeAsync);
        worker.MapGet("/dead-letters", ListDeadLettersAsync);
        worker.MapPost("/dead-letters/redrive", RedriveAsync);
        worker.MapDelete("/dead-letters", DiscardAsync);
        return app;
    }

    private static async Task<IResult> UnEnqueueAsync(string canvas, string worker, string id, HttpContext http, WorkerCommands commands,
        CancelledEventStore cancelled, IPublishEndpoint controlPlane, CancellationToken cancellationToken)
    {
        var (_, problem) = await commands.FindAsync(http, canvas, worker, adminOnly: false, cancellationToken);
        if (problem is not null) return problem;
        if (!Guid.TryParse(id, out var eventId)) return Problems.BadRequest($"'{id}' is not an event id (a GUID).");
        await cancelled.AddAsync(canvas, worker, eventId, cancellationToken);
        await controlPlane.Publish(new EventCancelled(canvas, worker, eventId), cancellationToken);
        return Results.Accepted();
    }

    private static async Task<IResult> PurgeAsync(string canvas, string worker, HttpContext http, WorkerCommands commands, Topology topology, CancellationToken cancellationToken)
    {
        var (_, problem) = await commands.FindAsync(http, canvas, worker, adminOnly: false, cancellationToken);
        if (problem is not null) return problem;
        return Results.Ok(new PurgedResponse(await topology.PurgeWorkerAsync(canvas, worker, cancellationToken)));
    }

    private static async Task<IResult> ListDeadLettersAsync(string canvas, string worker, HttpContext http, WorkerCommands commands, DeadLetterStore deadLetters, CancellationToken cancellationToken)
    {
        var (_, problem) = await commands.FindAsync(http, canvas, worker, adminOnly: false, cancellationToken);
        if (problem is not null) return problem;
        return Results.Ok(await deadLetters.ListAsync(canvas, worker, cancellationToken));
    }

    private static async Task<IResult> RedriveAsync(string canvas, string worker, HttpContext http, WorkerCommands commands, DeadLetterStore deadLetters,
        EventPublisher publisher, CancellationToken cancellationToken)
    {
        var (_, problem) = await commands.FindAsync(http, canvas, worker, adminOnly: false, cancellationToken);
        if (problem is not null) return problem;
        var redriven = await deadLetters.RedriveAsync(canvas, worker,
            e => publisher.PublishAsync(e.Envelope, e.Body, cancellationToken), cancellationToken);
        return Results.Ok(new RedrivenResponse(redriven));
    }

    private static async Task<IResult> DiscardAsync(string canvas, string worker, HttpContext http, WorkerCommands commands, DeadLetterStore deadLetters, CancellationToken cancellationToken)
    {
        var (_, problem) = await commands.FindAsync(http, canvas, worker, adminOnly: false, cancellationToken);
        if (problem is not null) return problem;
        return Results.Ok(new DiscardedResponse(await deadLetters.DiscardAsync(canvas, worker, cancellationToken)));
    }
}
