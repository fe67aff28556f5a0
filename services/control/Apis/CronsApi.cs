using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Shared;
using Workq.Shared.Configuration;
using Workq.Shared.Http;
using Workq.Shared.Scheduling;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// Crons: a five-field UTC schedule that emits a fixed event to a worker on every tick (the
/// dispatchers fire them). The worker need not exist: its events are then parked like any emit.
/// </summary>
public static class CronsApi
{
    public static RouteGroupBuilder MapCronsApi(this RouteGroupBuilder canvas)
    {
        var crons = canvas.MapGroup("/crons");
        crons.MapGet("", ListAsync);
        crons.MapPut("/{cron}", PutAsync).WithJsonBody<PutCronRequest>();
        crons.MapGet("/{cron}", GetAsync);
        crons.MapDelete("/{cron}", DeleteAsync);
        return canvas;
    }

    private static async Task<Ok<IEnumerable<CronView>>> ListAsync(
        string canvas,
        CronStore store,
        CancellationToken cancellationToken) =>
        TypedResults.Ok((await store.ListAsync(canvas, cancellationToken)).Select(CronView.From));

    private static async Task<Results<Ok<CronView>, ProblemHttpResult>> GetAsync(
        [AsParameters] CronRoute route,
        CronStore store,
        CancellationToken cancellationToken) =>
        await store.GetAsync(route.Canvas, route.Cron, cancellationToken) is { } record
            ? TypedResults.Ok(CronView.From(record))
            : NoSuchCron(route);

    private static async Task<Results<Created<CronView>, Ok<CronView>, ProblemHttpResult>> PutAsync(
        [AsParameters] CronRoute route,
        HttpRequest http,
        CronStore store,
        EmitLimits options,
        TimeProvider clock,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var (canvas, cron) = route;
        var (request, problem) = await RequestJson.ReadAsync<PutCronRequest>(http, cancellationToken);
        if (problem is not null) return problem;
        if (request!.Schedule is null)
            return Problems.BadRequest("\"schedule\" is required: a five-field cron expression in UTC (minute hour " +
                "day-of-month month day-of-week), e.g. \"*/5 * * * *\".");
        if (!CronSchedule.TryParse(request.Schedule, out var schedule, out var error)) return Problems.BadRequest(
            error);
        if (request.Worker is null) return Problems.BadRequest(
            "\"worker\" is required: the name of the worker each tick emits to.");
        if (!Names.IsValid(request.Worker)) return Problems.BadName("worker", request.Worker);
        var eventJson = request.Event is { } value ? value.GetRawText() : "null";
        if (eventJson.Length > options.MaxEventBytes)
            return Problems.BadRequest(
                $"\"event\" is larger than the limit of {options.MaxEventBytes} bytes (WORKQ_MAX_EVENT_BYTES).");

        var stored = await store.PutAsync(
            canvas,
            http.HttpContext.CanvasIncarnation(),
            cron,
            schedule!.Expression,
            request.Worker,
            eventJson,
            schedule.NextAfter(clock.GetUtcNow()),
            cancellationToken);
        if (stored is not { } put) return Problems.NotFound($"There is no canvas '{canvas}'.");
        var (record, created) = put;
        loggers.CreateLogger(typeof(CronsApi)).LogInformation(
            "Cron {Canvas}/{Cron} set to '{Schedule}' for worker {Worker}; next tick {NextRun:O}",
            canvas,
            cron,
            record.Schedule,
            record.Worker,
            record.NextRun);
        var view = CronView.From(record);
        return created ? TypedResults.Created($"/v1/canvases/{canvas}/crons/{cron}", view) : TypedResults.Ok(view);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        [AsParameters] CronRoute route,
        CronStore store,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        if (!await store.DeleteAsync(route.Canvas, route.Cron, cancellationToken)) return NoSuchCron(route);
        loggers.CreateLogger(typeof(CronsApi)).LogInformation("Cron {Canvas}/{Cron} deleted", route.Canvas, route.Cron);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NoSuchCron(CronRoute route)
        => Problems.NotFound($"There is no cron '{route.Cron}' on canvas '{route.Canvas}'.");
}
