using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Control.Canvases;
using Workq.Control.Compiling;
using Workq.Control.Deploying;
using Workq.Shared.Configuration;
using Workq.Shared.ControlPlane;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// Workers: deploy code, read, change settings, delete, and steer their state. The canvas group has checked access and
/// names.
/// </summary>
public static class WorkersApi
{
    /// <summary>An ordinary compile takes a fraction of a second, so a busy compiler frees up soon.</summary>
    private const int RetryAfterSeconds = 1;

    public static RouteGroupBuilder MapWorkersApi(this RouteGroupBuilder canvas)
    {
        var workers = canvas.MapGroup("/workers");
        workers.MapGet("", ListAsync);
        workers.MapPut("/{worker}", PutAsync).WithJsonBody<WorkerDeployBody>()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        workers.MapGet("/{worker}", GetAsync);
        workers.MapPatch("/{worker}", PatchAsync).WithJsonBody<WorkerSettingsBody>();
        workers.MapDelete("/{worker}", DeleteAsync);
        MapTransition(workers, "pause", (store, route, ct) => store.PauseAsync(route.Canvas, route.Worker, ct));
        MapTransition(workers, "resume", (store, route, ct) => store.ResumeAsync(route.Canvas, route.Worker, ct),
            conflictIfBlocked: "is blocked by an administrator; it can only be unblocked by the admin").ProducesProblem(
                StatusCodes.Status409Conflict);
        workers.MapPost("/{worker}/block", BlockAsync).WithJsonBody<BlockRequest>().RequireAdmin();
        MapTransition(workers, "unblock", (store, route, ct) => store.UnblockAsync(route.Canvas, route.Worker, ct))
            .RequireAdmin();
        workers.MapGet("/{worker}/traces", TracesAsync).Produces<JsonArray>(StatusCodes.Status200OK);
        return canvas;
    }

    private static RouteHandlerBuilder MapTransition(RouteGroupBuilder workers, string action,
        Func<WorkerStore, WorkerRoute, CancellationToken, Task<WorkerRecord?>> transition,
            string? conflictIfBlocked = null) =>
        workers.MapPost($"/{{worker}}/{action}", ([AsParameters] WorkerRoute route, WorkerCommands commands,
            WorkerStore store, CancellationToken ct) =>
            commands.SetStateAsync(route, () => transition(store, route, ct), ct, conflictIfBlocked));

    private static async Task<Ok<IReadOnlyList<WorkerView>>> ListAsync(
        string canvas,
        WorkerStore store,
        WorkerViews views,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(await views.CreateAsync(
            await store.ListAsync(canvas, cancellationToken),
            withCode: false,
            cancellationToken));

    private static async Task<Results<Ok<WorkerView>, ProblemHttpResult>> GetAsync(
        [AsParameters] WorkerRoute route,
        WorkerCommands commands,
        WorkerViews views,
        CancellationToken cancellationToken) =>
        await commands.FindAsync(route, cancellationToken) is { } record
            ? TypedResults.Ok(await views.CreateAsync(record, withCode: true, cancellationToken))
            : WorkerCommands.NoSuchWorker(route);

    private static async Task<Results<Created<WorkerView>, Ok<WorkerView>, ProblemHttpResult,
        Problems.RetryAfterResult>> PutAsync([AsParameters] WorkerRoute route,
        HttpRequest request, WorkerDeployment deployment, CompilerOptions options, CancellationToken cancellationToken)
    {
        var (deploy, problem) = await WorkerRequests.ReadPutAsync(request, options, cancellationToken);
        if (problem is not null) return problem;
        var outcome = await deployment.DeployAsync(
            route,
            request.HttpContext.CanvasIncarnation(),
            deploy!,
            cancellationToken);
        if (outcome.Deleting)
            return Problems.Conflict($"Worker '{route.Worker}' is still being deleted (a DELETE of it failed " +
                $"part-way): repeat the DELETE, then deploy it.");
        if (outcome.Worker is not { } view) return CompileProblem(outcome.Compilation, options);
        return outcome.Created
            ? TypedResults.Created($"/v1/canvases/{route.Canvas}/workers/{route.Worker}", view)
            : TypedResults.Ok(view);
    }

    private static async Task<Results<Ok<WorkerView>, ProblemHttpResult>> PatchAsync(
        [AsParameters] WorkerRoute route,
        HttpRequest request,
        WorkerCommands commands,
        WorkerStore store,
        CancellationToken cancellationToken)
    {
        if (await commands.MissingAsync(route, cancellationToken) is { } missing) return missing;
        var (settings, problem) = await WorkerRequests.ReadPatchAsync(request, cancellationToken);
        if (problem is not null) return problem;
        return await commands.ChangeAsync(
            route,
            () => store.UpdateSettingsAsync(route.Canvas, route.Worker, settings!, cancellationToken),
            cancellationToken);
    }

    /// <summary>
    /// Also finishes a deletion that failed half-way: the worker is then gone for every other route, but not for this
    /// one.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        [AsParameters] WorkerRoute route,
        WorkerDeletion deletion,
        IPublishEndpoint controlPlane,
        CancellationToken cancellationToken)
    {
        if (!await deletion.DeleteAsync(route.Canvas, route.Worker, cancellationToken)) return WorkerCommands
            .NoSuchWorker(route);
        await controlPlane.Publish(new WorkerChanged(route.Canvas, route.Worker), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<WorkerView>, ProblemHttpResult>> BlockAsync(
        [AsParameters] WorkerRoute route,
        HttpRequest request,
        WorkerCommands commands,
        WorkerStore store,
        CancellationToken cancellationToken)
    {
        if (await commands.MissingAsync(route, cancellationToken) is { } missing) return missing;
        string reason = "Blocked by an administrator.";
        if (request.ContentLength is not 0)
        {
            var (body, bad) = await RequestJson.ReadAsync<BlockRequest>(request, cancellationToken);
            if (bad is not null) return bad;
            if (body!.Reason is { Length: > 1_000 }) return Problems.BadRequest(
                "\"reason\" is longer than 1000 characters.");
            if (!string.IsNullOrWhiteSpace(body.Reason)) reason = body.Reason;
        }
        return await commands.SetStateAsync(
            route,
            () => store.BlockAsync(route.Canvas, route.Worker, reason, cancellationToken),
            cancellationToken);
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> TracesAsync(
        [AsParameters] WorkerRoute route,
        WorkerCommands commands,
        ITraceStore traces,
        TraceStoreOptions options,
        CancellationToken cancellationToken)
    {
        if (await commands.MissingAsync(route, cancellationToken) is { } missing) return missing;
        var (canvas, worker) = route;
        var stored = await traces.ListAsync(canvas, worker, options.TracesPerWorker, cancellationToken);
        return TypedResults.Text("[" + string.Join(",", stored) + "]", "application/json");
    }

    /// <summary>Why this compile refused the deploy.</summary>
    private static Results<Created<WorkerView>, Ok<WorkerView>, ProblemHttpResult,
        Problems.RetryAfterResult> CompileProblem(CompileOutcome compilation, CompilerOptions options) =>
        compilation.Status switch
        {
            CompileStatus.Compiled => Problems
                .BadRequest($"The code does not compile or uses a forbidden API ({compilation.Errors.Count} error(s)).",
                    new Dictionary<string, object?>
                    {
                        ["errors"] = compilation.Errors
                    .Select(e => new { line = e.Line, column = e.Column, message = e.Message })
                    .ToList()
                    }),
            CompileStatus.TimedOut => Problems.BadRequest(
                $"The compile took too long: it was stopped at the limit of " +
                    $"{options.CompileTimeout.TotalSeconds:0.###} s (WORKQ_COMPILE_TIMEOUT_SECONDS). Simplify the " +
                        $"code (deeply nested lambdas over overloaded methods are the usual cause)."),
            CompileStatus.Crashed => Problems.BadRequest(
                $"The compiler failed on this code: it passed the compiler's memory limit of " +
                    $"{options.CompilerHeapMegabytes} MB (WORKQ_COMPILER_HEAP_MB) or nested too deeply. Simplify the " +
                        $"code."),
            CompileStatus.Busy => Problems.Unavailable($"Every compiler is busy ({options.MaxConcurrentCompiles} " +
                $"compiles at once, WORKQ_MAX_CONCURRENT_COMPILES); try again shortly.", RetryAfterSeconds),
            _ => Problems.Unavailable("The compiler could not be started; try again shortly.", RetryAfterSeconds),
        };
}
