using Workq.Emitter.Emitting;
using Workq.Shared;
using Workq.Shared.Configuration;
using Workq.Shared.Http;

namespace Workq.Emitter.Apis;

public sealed record EmitResponse(Guid Id, DateTimeOffset EnqueuedAt);
public sealed record BatchEmitResponse(IReadOnlyList<Guid> Ids);

public static class EmitApi
{
    /// <summary>A batch may carry up to 1,000 events, each up to WORKQ_MAX_EVENT_BYTES; this bounds the request as a whole.</summary>
    private const int MaxBatchBytes = 32 * 1024 * 1024;

    public static IEndpointRouteBuilder MapEmitApi(this IEndpointRouteBuilder app)
    {
        var canvases = app.MapGroup("/v1/canvases/{canvas}");
        canvases.MapPost("/workers/{worker}/events", EmitOneAsync);
        canvases.MapPost("/events", EmitBatchAsync);
        return app;
    }

    private static async Task<IResult> EmitOneAsync(string canvas, string worker, HttpContext http, AccessControl access,
        EventEmitter emitter, CanvasEmitRate rate, WorkqOptions options, CancellationToken cancellationToken)
    {
        if (await access.AuthorizeCanvasAsync(http, canvas) is { } denied) return denied;
        if (!Names.IsValid(worker)) return Problems.BadName("worker", worker);
        var key = http.Request.Headers[IdempotencyKeys.Header].FirstOrDefault();
        if (IdempotencyKeys.Problem(key) is { } keyProblem) return Problems.BadRequest($"{IdempotencyKeys.Header}: {keyProblem}");

        using var body = await BodyBuffer.ReadAsync(http.Request, options.MaxEventBytes, cancellationToken);
        if (body is null) return Problems.TooLarge(options.MaxEventBytes, "WORKQ_MAX_EVENT_BYTES");
        if (EventBatch.ValidateSingle(body.Memory.Span) is { } invalid) return Problems.BadRequest(invalid);
        if (OverRate(rate, canvas, 1, options) is { } refused) return refused;

        var emitted = await emitter.EmitAsync(canvas, [new BatchItem(worker, body.Memory, key)], TraceParent(http), cancellationToken);
        return Results.Accepted(value: new EmitResponse(emitted[0].Id, emitted[0].EnqueuedAt));
    }

    private static async Task<IResult> EmitBatchAsync(string canvas, HttpContext http, AccessControl access,
        EventEmitter emitter, CanvasEmitRate rate, WorkqOptions options, CancellationToken cancellationToken)
    {
        if (await access.AuthorizeCanvasAsync(http, canvas) is { } denied) return denied;
        using var body = await BodyBuffer.ReadAsync(http.Request, MaxBatchBytes, cancellationToken);
        if (body is null) return Problems.TooLarge(MaxBatchBytes, "the limit of a batch request, 32 MiB");
        var batch = EventBatch.Parse(body.Memory, options.MaxEventBytes);
        if (batch.Items is not { } items)
            return batch.EventTooLarge
                ? Results.Problem(detail: batch.Error, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large")
                : Problems.BadRequest(batch.Error!);
        if (OverRate(rate, canvas, items.Count, options) is { } refused) return refused;

        var emitted = await emitter.EmitAsync(canvas, items, TraceParent(http), cancellationToken);
        return Results.Accepted(value: new BatchEmitResponse(Array.ConvertAll(emitted, e => e.Id)));
    }

    /// <summary>Null when the canvas may emit these events now (one token each); else why not.</summary>
    private static IResult? OverRate(CanvasEmitRate rate, string canvas, int events, WorkqOptions options) => rate.TryTake(canvas, events) switch
    {
        { Refused: EmitRateDecision.Refusal.None } => null,
        { Refused: EmitRateDecision.Refusal.LargerThanBurst } => Problems.BadRequest(
            $"A batch of {events} events is larger than the burst of canvas '{canvas}' (WORKQ_CANVAS_EMIT_RATE = {options.CanvasEmitRate}): send at most {options.CanvasEmitRate!.Burst} events per request."),
        var over => Problems.TooManyRequests(
            $"Canvas '{canvas}' is over its emit rate of {options.CanvasEmitRate} (WORKQ_CANVAS_EMIT_RATE); nothing was enqueued. Retry after the seconds in Retry-After.", over.RetryAfter),
    };

    private static string? TraceParent(HttpContext http) =>
        http.Request.Headers.TryGetValue("traceparent", out var value) && value.ToString() is { Length: 55 } parent ? parent : null;
}
