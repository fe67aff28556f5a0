using System.Text.Json;
using System.Text.Json.Nodes;
using Workq.Shared;
using Workq.Shared.Configuration;
using Workq.Shared.Http;
using Workq.Shared.Scheduling;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

public sealed record PutCronRequest(string? Schedule, string? Worker, JsonElement? Event);
public sealed record CronView(string Name, string Schedule, string Worker, JsonNode? Event, DateTimeOffset? LastRun, DateTimeOffset NextRun)
{
    public static CronView From(CronRecord cron) => new(cron.Name, cron.Schedule, cron.Worker, JsonNode.Parse(cron.Event), cron.LastRun, cron.NextRun);
}

/// <summary>
/// Crons: a five-field UTC schedule that emits a fixed event to a worker on every tick (the
/// dispatchers fire them). The worker need not exist: its events are then parked like any emit.
/// </summary>
public static class CronsApi
{
    public static IEndpointRouteBuilder MapCronsApi(this IEndpointRouteBuilder app)
    {
        var crons = app.MapGroup("/v1/canvases/{canvas}/crons");
        crons.MapGet("", ListAsync);
        crons.MapPut("/{cron}", PutAsync);
        crons.MapGet("/{cron}", GetAsync);
        crons.MapDelete("/{cron}", DeleteAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(string canvas, HttpContext http, AccessControl access, CronStore store, CancellationToken cancellationToken)
    {
        if (await access.AuthorizeCanvasAsync(http, canvas) is { } denied) return denied;
        return Results.Ok((await store.ListAsync(canvas, cancellationToken)).Select(CronView.From));
    }

    private static async Task<IResult> GetAsync(string canvas, string cron, HttpContext http, AccessControl access, CronStore store, CancellationToken cancellationToken)
    {
        if (await AuthorizeAsync(http, access, canvas, cron) is { } denied) return denied;
        return await store.GetAsync(canvas, cron, cancellationToken) is { } record ? Results.Ok(CronView.From(record)) : NoSuchCron(canvas, cron);
    }

    private static async Task<IResult> PutAsync(string canvas, string cron, HttpContext http, AccessControl access, CronStore store, WorkqOptions options,
        TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await AuthorizeAsync(http, access, canvas, cron) is { } denied) return denied;
        var (request, problem) = await RequestJson.ReadAsync<PutCronRequest>(http.Request, cancellationToken);
        if (problem is not null) return problem;
        if (request!.Schedule is null)
            return Problems.BadRequest("\"schedule\" is required: a five-field cron expression in UTC (minute hour day-of-month month day-of-week), e.g. \"*/5 * * * *\".");
        if (!CronSchedule.TryParse(request.Schedule, out var schedule, out var error)) return Problems.BadRequest(error);
        if (request.Worker is null) return Problems.BadRequest("\"worker\" is required: the name of the worker each tick emits to.");
        if (!Names.IsValid(request.Worker)) return Problems.BadName("worker", request.Worker);
        var eventJson = request.Event is { } value ? value.GetRawText() : "null";
        if (eventJson.Length > options.MaxEventBytes)
            return Problems.BadRequest($"\"event\" is larger than the limit of {options.MaxEventBytes} bytes (WORKQ_MAX_EVENT_BYTES).");

        var stored = await store.PutAsync(canvas, cron, schedule!.Expression, request.Worker, eventJson, schedule.NextAfter(clock.GetUtcNow()), cancellationToken);
        if (stored is not { } put) return Problems.NotFound($"There is no canvas '{canvas}'.");
        var (record, created) = put;
        loggers.CreateLogger(typeof(CronsApi)).LogInformation("Cron {Canvas}/{Cron} set to '{Schedule}' for worker {Worker}; next tick {NextRun:O}", canvas, cron, record.Schedule, record.Worker, record.NextRun);
        var view = CronView.From(record);
        return created ? Results.Created($"/v1/canvases/{canvas}/crons/{cron}", view) : Results.Ok(view);
    }

    private static async Task<IResult> DeleteAsync(string canvas, string cron, HttpContext http, AccessControl access, CronStore store,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await AuthorizeAsync(http, access, canvas, cron) is { } denied) return denied;
        if (!await store.DeleteAsync(canvas, cron, cancellationToken)) return NoSuchCron(canvas, cron);
        loggers.CreateLogger(typeof(CronsApi)).LogInformation("Cron {Canvas}/{Cron} deleted", canvas, cron);
        return Results.NoContent();
    }

    private static async Task<IResult?> AuthorizeAsync(HttpContext http, AccessControl access, string canvas, string cron) =>
        await access.AuthorizeCanvasAsync(http, canvas) ?? (Names.IsValid(cron) ? null : Problems.BadName("cron", cron));

    private static IResult NoSuchCron(string canvas, string cron) => Problems.NotFound($"There is no cron '{cron}' on canvas '{canvas}'.");
}
