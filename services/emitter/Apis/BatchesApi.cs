using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Emitter.Emitting;
using Workq.Shared.Configuration;
using Workq.Shared.Http;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Emitter.Apis;

/// <summary>
/// Batches (API.md "Batches"): create one with its events and callbacks, add events to an open one, close it. Its
/// events are emitted as a batch emit's, carrying the batch's id; they join the batch once enqueued, before the answer.
/// </summary>
public static class BatchesApi
{
    public static RouteGroupBuilder MapBatchesApi(this RouteGroupBuilder canvas)
    {
        canvas.MapPost("/batches", CreateAsync).WithJsonBody<BatchBody>();
        canvas.MapPost("/batches/{id}/events", AddAsync).WithJsonBody<BatchItemBody[]>()
            .ProducesProblem(StatusCodes.Status409Conflict);
        canvas.MapPost("/batches/{id}/close", CloseAsync);
        return canvas;
    }

    private static async Task<Results<Accepted<BatchCreatedResponse>, ProblemHttpResult, Problems.RetryAfterResult>>
        CreateAsync(
            string canvas,
            [AsParameters] EmitTrace trace,
            HttpRequest request,
            EventEmitter emitter,
            BatchStore batches,
            CanvasEmitRate rate,
            EmitLimits options,
            CancellationToken cancellationToken)
    {
        using var body = await BodyBuffer.ReadAsync(request, EmitApi.MaxBatchBytes, cancellationToken);
        if (body is null) return Problems.TooLarge(EmitApi.MaxBatchBytes, "the limit of a batch request, 32 MiB");
        var (parsed, problem) = BatchRequest.Parse(body.Memory, options.MaxEventBytes, DateTimeOffset.UtcNow);
        if (parsed is not { } batch) return EmitApi.Refused(problem);
        if (EmitApi.OverRate<BatchCreatedResponse>(rate, canvas, batch.Events.Count, options) is { } refused)
            return refused;

        var incarnation = request.HttpContext.CanvasIncarnation();
        // The callbacks join the request's trace, as its events do.
        var traceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } span ? span.Id : trace.Parent;
        var (id, created) = await batches.CreateAsync(
            new NewBatch(canvas, Guid.CreateVersion7(), 0, batch.IdempotencyKey, traceParent, batch.OnComplete,
                batch.OnSuccess),
            incarnation,
            cancellationToken);
        if (!created)
            return TypedResults.Accepted((string?)null,
                new BatchCreatedResponse(id, await batches.FirstIdsAsync(canvas, id, cancellationToken)));
        if (batch.Events.Count == 0)
        {
            if (!batch.Open) await batches.CloseAsync(canvas, id, CancellationToken.None);
            return TypedResults.Accepted((string?)null, new BatchCreatedResponse(id, []));
        }
        try
        {
            var emitted = await emitter.EmitAsync(canvas, incarnation, batch.Events, trace.Parent, cancellationToken,
                new BatchTarget(id, Close: !batch.Open, Creating: true));
            return TypedResults.Accepted((string?)null,
                new BatchCreatedResponse(id, Array.ConvertAll(emitted, e => e.Id)));
        }
        catch (Exception e) when (e is BrokerUnavailableException or QueueFullException)
        {
            // What was enqueued is in the batch (closed, as asked); its key is given back, so the client's retry
            // creates a batch again rather than answering with this one.
            await batches.ForgetKeyAsync(canvas, id, CancellationToken.None);
            throw;
        }
    }

    private static async Task<Results<Accepted<BatchEmitResponse>, ProblemHttpResult, Problems.RetryAfterResult>>
        AddAsync(
            string canvas,
            string id,
            [AsParameters] EmitTrace trace,
            HttpRequest request,
            EventEmitter emitter,
            BatchStore batches,
            CanvasEmitRate rate,
            EmitLimits options,
            CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var batchId)) return NotABatchId(id);
        using var body = await BodyBuffer.ReadAsync(request, EmitApi.MaxBatchBytes, cancellationToken);
        if (body is null) return Problems.TooLarge(EmitApi.MaxBatchBytes, "the limit of a batch request, 32 MiB");
        var parsed = EventBatch.Parse(body.Memory, options.MaxEventBytes, DateTimeOffset.UtcNow, members: true);
        if (parsed.Items is not { } items) return EmitApi.Refused(parsed);
        // Checked before anything is enqueued; the events join it after, while it has not finished.
        var found = await batches.FindAsync(canvas, batchId, cancellationToken);
        if (NotOpen(canvas, batchId, found) is { } notOpen) return notOpen;
        if (EmitApi.OverRate<BatchEmitResponse>(rate, canvas, items.Count, options) is { } refused) return refused;

        var emitted = await emitter.EmitAsync(canvas, request.HttpContext.CanvasIncarnation(), items, trace.Parent,
            cancellationToken, new BatchTarget(batchId, Close: false));
        return TypedResults.Accepted((string?)null, new BatchEmitResponse(Array.ConvertAll(emitted, e => e.Id)));
    }

    private static async Task<Results<Accepted<BatchClosedResponse>, ProblemHttpResult>> CloseAsync(
        string canvas,
        string id,
        BatchStore batches,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var batchId)) return NotABatchId(id);
        return await batches.CloseAsync(canvas, batchId, cancellationToken) == BatchChange.NotFound
            ? NoSuchBatch(canvas, batchId)
            : TypedResults.Accepted((string?)null, new BatchClosedResponse(batchId));
    }

    private static ProblemHttpResult? NotOpen(string canvas, Guid batchId, BatchRow? found) => found switch
    {
        null => NoSuchBatch(canvas, batchId),
        { State: BatchStates.Open } => null,
        _ => Problems.Conflict($"Batch '{batchId}' is closed: events are added only to an open batch (\"open\": " +
            "true at its creation, until it is closed)."),
    };

    private static ProblemHttpResult NoSuchBatch(string canvas, Guid batchId) =>
        Problems.NotFound($"No batch '{batchId}' on canvas '{canvas}' (finished batches are kept for " +
            "WORKQ_BATCH_RETENTION_HOURS).");

    private static ProblemHttpResult NotABatchId(string id) =>
        Problems.BadRequest($"'{id}' is not a batch id (a GUID).");
}
