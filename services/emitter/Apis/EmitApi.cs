using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Emitter.Emitting;
using Workq.Shared.Configuration;
using Workq.Shared.Http;

namespace Workq.Emitter.Apis;

public static class EmitApi
{
    /// <summary>
    /// A batch may carry up to 1,000 events, each up to WORKQ_MAX_EVENT_BYTES; this bounds the request as a whole.
    /// </summary>
    internal const int MaxBatchBytes = 32 * 1024 * 1024;

    /// <summary>
    /// The emit routes, on the canvas group (its filter has checked access and the worker's name); 503 with Retry-After
    /// when the broker cannot confirm.
    /// </summary>
    public static RouteGroupBuilder MapEmitApi(this RouteGroupBuilder canvas)
    {
        canvas.MapPost("/workers/{worker}/events", EmitOneAsync).WithJsonBody<JsonNode>();
        canvas.MapPost("/events", EmitBatchAsync).WithJsonBody<BatchItemBody[]>();
        canvas.ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return canvas;
    }

    private static async Task<Results<Accepted<EmitResponse>, ProblemHttpResult, Problems.RetryAfterResult>>
        EmitOneAsync(
            [AsParameters] EmitTarget target,
            [AsParameters] EmitQuery query,
            [AsParameters] EmitTrace trace,
            HttpRequest request,
            EventEmitter emitter,
            CanvasEmitRate rate,
            EmitLimits options,
            CancellationToken cancellationToken)
    {
        var (key, keyProblem) = query.ParseIdempotencyKey();
        if (keyProblem is not null) return Problems.BadRequest(keyProblem);

        using var body = await BodyBuffer.ReadAsync(request, options.MaxEventBytes, cancellationToken);
        if (body is null) return Problems.TooLarge(options.MaxEventBytes, "WORKQ_MAX_EVENT_BYTES");
        if (EventBatch.ValidateSingle(body.Memory.Span) is { } invalid) return Problems.BadRequest(invalid);
        var (runAt, scheduleProblem) = query.ParseSchedule(DateTimeOffset.UtcNow);
        if (scheduleProblem is not null) return Problems.BadRequest(scheduleProblem);
        var (debounce, debounceProblem) = query.ParseDebounce();
        if (debounceProblem is not null) return Problems.BadRequest(debounceProblem);
        var (priority, priorityProblem) = query.ParsePriority();
        if (priorityProblem is not null) return Problems.BadRequest(priorityProblem);
        if (OverRate<EmitResponse>(rate, target.Canvas, 1, options) is { } refused) return refused;

        var item = new BatchItem(target.Worker, body.Memory, key, runAt, query.OrderingKey, debounce, priority);
        var incarnation = request.HttpContext.CanvasIncarnation();
        var emitted = await emitter.EmitAsync(target.Canvas, incarnation, [item], trace.Parent, cancellationToken);
        return TypedResults.Accepted((string?)null, new EmitResponse(emitted[0].Id, emitted[0].EnqueuedAt));
    }

    private static async Task<Results<Accepted<BatchEmitResponse>, ProblemHttpResult, Problems.RetryAfterResult>>
        EmitBatchAsync(
            string canvas,
            [AsParameters] EmitTrace trace,
            HttpRequest request,
            EventEmitter emitter,
            CanvasEmitRate rate,
            EmitLimits options,
            CancellationToken cancellationToken)
    {
        using var body = await BodyBuffer.ReadAsync(request, MaxBatchBytes, cancellationToken);
        if (body is null) return Problems.TooLarge(MaxBatchBytes, "the limit of a batch request, 32 MiB");
        var batch = EventBatch.Parse(body.Memory, options.MaxEventBytes, DateTimeOffset.UtcNow);
        if (batch.Items is not { } items) return Refused(batch);
        if (OverRate<BatchEmitResponse>(rate, canvas, items.Count, options) is { } refused) return refused;

        var incarnation = request.HttpContext.CanvasIncarnation();
        var emitted = await emitter.EmitAsync(canvas, incarnation, items, trace.Parent, cancellationToken);
        return TypedResults.Accepted((string?)null, new BatchEmitResponse(Array.ConvertAll(emitted, e => e.Id)));
    }

    /// <summary>Why a batch's body was refused: 413 for an event over the limit, else 400.</summary>
    internal static ProblemHttpResult Refused(BatchParse parse) => parse.EventTooLarge
        ? TypedResults.Problem(
            detail: parse.Error,
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Payload too large")
        : Problems.BadRequest(parse.Error!);

    /// <summary>
    /// Null when the canvas may emit these events now (one token each); else why not, as the route's answer.
    /// </summary>
    internal static Results<Accepted<TResponse>, ProblemHttpResult, Problems.RetryAfterResult>? OverRate<TResponse>(
        CanvasEmitRate rate,
        string canvas,
        int events,
        EmitLimits options) => rate.TryTake(canvas, events) switch
        {
            { Refused: EmitRateDecision.Refusal.None } => null,
            { Refused: EmitRateDecision.Refusal.LargerThanBurst } => Problems.BadRequest(
                $"A batch of {events} events is larger than the burst of canvas '{canvas}' (WORKQ_CANVAS_EMIT_RATE = " +
                    $"{options.CanvasEmitRate}): send at most {options.CanvasEmitRate!.Burst} events per request."),
            var over => Problems.TooManyRequests(
                $"Canvas '{canvas}' is over its emit rate of {options.CanvasEmitRate} (WORKQ_CANVAS_EMIT_RATE); " +
                    $"nothing was enqueued. Retry after the seconds in Retry-After.", over.RetryAfter),
        };
}
