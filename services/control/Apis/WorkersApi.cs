using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Workq.Control.Canvases;
using Workq.Control.Compiling;
using Workq.Control.Stats;
using Workq.Shared;
using Workq.Shared.Configuration;
using Workq.Shared.ControlPlane;
using Workq.Shared.Http;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

public sealed record BlockRequest(string? Reason);

/// <summary>Workers: deploy code, read, change settings, delete, and steer their state.</summary>
public static class WorkersApi
{
    public const int DefaultConcurrency = 10;
    public const int MaxConcurrency = 1_000;
    /// <summary>An ordinary compile takes a fraction of a second, so a busy compiler frees up soon.</summary>
    private const int RetryAfterSeconds = 1;

    public static IEndpointRouteBuilder MapWorkersApi(this IEndpointRouteBuilder app)
    {
        var workers = app.MapGroup("/v1/canvases/{canvas}/workers");
        workers.MapGet("", ListAsync);
        workers.MapPut("/{worker}", PutAsync);
        workers.MapGet("/{worker}", GetAsync);
        workers.MapPatch("/{worker}", PatchAsync);
        workers.MapDelete("/{worker}", DeleteAsync);
        workers.MapPost("/{worker}/pause", (string canvas, string worker, HttpContext http, WorkerCommands commands, WorkerStore store, CancellationToken ct) =>
            commands.SetStateAsync(http, canvas, worker, adminOnly: false, () => store.PauseAsync(canvas, worker, ct), ct));
        workers.MapPost("/{worker}/resume", (string canvas, string worker, HttpContext http, WorkerCommands commands, WorkerStore store, CancellationToken ct) =>
            commands.SetStateAsync(http, canvas, worker, adminOnly: false, () => store.ResumeAsync(canvas, worker, ct), ct,
                conflictIfBlocked: "is blocked by an administrator; it can only be unblocked by the admin"));
        workers.MapPost("/{worker}/block", BlockAsync);
        workers.MapPost("/{worker}/unblock", (string canvas, string worker, HttpContext http, WorkerCommands commands, WorkerStore store, CancellationToken ct) =>
            commands.SetStateAsync(http, canvas, worker, adminOnly: true, () => store.UnblockAsync(canvas, worker, ct), ct));
        workers.MapGet("/{worker}/traces", TracesAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(string canvas, HttpContext http, AccessControl access, WorkerStore store, WorkerViews views, CancellationToken cancellationToken)
    {
        if (await access.AuthorizeCanvasAsync(http, canvas) is { } denied) return denied;
        var workers = await store.ListAsync(canvas, cancellationToken);
        return Results.Ok(await views.CreateAsync(workers, withCode: false, cancellationToken));
    }

    private static async Task<IResult> GetAsync(string canvas, string worker, HttpContext http, WorkerCommands commands, WorkerViews views, CancellationToken cancellationToken)
    {
        var (record, problem) = await commands.FindAsync(http, canvas, worker, adminOnly: false, cancellationToken);
        return problem ?? Results.Ok(await views.CreateAsync(record!, withCode: true, cancellationToken));
    }

    private static async Task<IResult> PutAsync(string canvas, string worker, HttpContext http, AccessControl access, CompilerPool compilers, WorkqOptions options,
        WorkerStore store, Topology topology, WorkerViews views, IPublishEndpoint controlPlane, Convergence convergence, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await access.AuthorizeCanvasAsync(http, canvas) is { } denied) return denied;
        if (!Names.IsValid(worker)) return Problems.BadName("worker", worker);
        // A body past the JSON limit cannot hold code within the code limit either: say so as the code limit.
        if (http.Request.ContentLength > RequestJson.MaxControlBodyBytes) return Problems.CodeTooLarge(options.MaxCodeBytes);
        var (body, problem) = await RequestJson.ReadAsync<JsonObject>(http.Request, cancellationToken);
        if (problem is not null) return problem;
        if (UnknownFields(body!, "PUT", ["code", .. SettingNames]) is { } unknown) return unknown;
        if (body!["code"] is not JsonValue codeNode || !codeNode.TryGetValue<string>(out var code) || string.IsNullOrWhiteSpace(code))
            return Problems.BadRequest("\"code\" is required: the handler's C# script body.");
        if (Encoding.UTF8.GetByteCount(code) > options.MaxCodeBytes) return Problems.CodeTooLarge(options.MaxCodeBytes);
        var (settings, invalid) = ParseSettings(body);
        if (invalid is not null) return invalid;

        // Compiling here refuses bad code before it reaches any worker instance.
        var compilation = await compilers.CompileAsync(code, cancellationToken);
        var logger = loggers.CreateLogger(typeof(WorkersApi));
        if (CompileProblem(compilation, options) is { } refused)
        {
            logger.LogInformation("{Canvas}/{Worker} not deployed: compile {Status}, {Errors} error(s)", canvas, worker, compilation.Status, compilation.Errors.Count);
            return refused;
        }

        // The queue exists before the answer, so an emit right after the PUT is never taken for an unknown worker.
        await topology.DeclareWorkerAsync(canvas, worker, cancellationToken);
        var (record, created) = await store.PutAsync(canvas, worker, code, compilation.Assembly!, settings!, DefaultConcurrency, cancellationToken);
        await controlPlane.Publish(new WorkerChanged(canvas, worker), cancellationToken);
        await convergence.WaitAsync(record, cancellationToken);
        logger.LogInformation("{Canvas}/{Worker} deployed as version {Version}", canvas, worker, record.Version);
        var view = await views.CreateAsync(record, withCode: true, cancellationToken);
        return created ? Results.Created($"/v1/canvases/{canvas}/workers/{worker}", view) : Results.Ok(view);
    }

    private static async Task<IResult> PatchAsync(string canvas, string worker, HttpContext http, WorkerCommands commands, WorkerStore store,
        WorkerViews views, IPublishEndpoint controlPlane, Convergence convergence, CancellationToken cancellationToken)
    {
        var (_, denied) = await commands.FindAsync(http, canvas, worker, adminOnly: false, cancellationToken);
        if (denied is not null) return denied;
        var (body, problem) = await RequestJson.ReadAsync<JsonObject>(http.Request, cancellationToken);
        if (problem is not null) return problem;
        var (settings, invalid) = ParseSettings(body!);
        if (invalid is not null) return invalid;
        if (UnknownFields(body!, "PATCH", SettingNames) is { } unknown) return unknown;

        var record = await store.UpdateSettingsAsync(canvas, worker, settings!, cancellationToken);
        if (record is null) return Problems.NotFound($"There is no worker '{worker}' on canvas '{canvas}'.");
        await controlPlane.Publish(new WorkerChanged(canvas, worker), cancellationToken);
        await convergence.WaitAsync(record, cancellationToken);
        return Results.Ok(await views.CreateAsync(record, withCode: false, cancellationToken));
    }

    /// <summary>The worker's settings, which PUT and PATCH both take: a new setting is added here once, for both.</summary>
    private static readonly string[] SettingNames = ["concurrency", "retry"];

    private static (WorkerSettings? Settings, IResult? Problem) ParseSettings(JsonObject body)
    {
        int? concurrency = null;
        if (body.TryGetPropertyValue("concurrency", out var concurrencyNode) && concurrencyNode is not null)
        {
            if (concurrencyNode is not JsonValue value || !value.TryGetValue<int>(out var parsed))
                return (null, Problems.BadRequest($"\"concurrency\" must be a whole number from 1 to {MaxConcurrency}."));
            if (ConcurrencyProblem(parsed) is { } bad) return (null, bad);
            concurrency = parsed;
        }
        RetryPolicy? retry = null;
        var clearRetry = false;
        if (body.TryGetPropertyValue("retry", out var retryNode))
        {
            if (retryNode is null) clearRetry = true;
            else
            {
                (retry, var error) = RetryPolicies.Parse(retryNode);
                if (error is not null) return (null, Problems.BadRequest(error));
            }
        }
        return (new WorkerSettings(concurrency, retry, clearRetry), null);
    }

    /// <summary>A field the route does not take is refused by name: a misspelt setting must not be silently ignored.</summary>
    private static IResult? UnknownFields(JsonObject body, string method, string[] allowed)
    {
        var unknown = body.Select(p => p.Key).Where(k => !allowed.Contains(k, StringComparer.Ordinal)).ToList();
        if (unknown.Count == 0) return null;
        var takes = string.Join(", ", allowed.Select(a => $"\"{a}\""));
        return Problems.BadRequest(method == "PATCH"
            ? $"Unknown setting(s): {string.Join(", ", unknown)}. PATCH takes {takes}; deploy code with PUT."
            : $"Unknown field(s): {string.Join(", ", unknown)}. PUT takes {takes}.");
    }

    private static async Task<IResult> DeleteAsync(string canvas, string worker, HttpContext http, WorkerCommands commands, WorkerDeletion deletion,
        Topology topology, IPublishEndpoint controlPlane, CancellationToken cancellationToken)
    {
        var (_, problem) = await commands.FindAsync(http, canvas, worker, adminOnly: false, cancellationToken);
        if (problem is not null) return problem;
        await deletion.DeleteAsync(canvas, worker, cancellationToken);
        await topology.DeleteWorkerAsync(canvas, worker, cancellationToken);
        await controlPlane.Publish(new WorkerChanged(canvas, worker), cancellationToken);
        return Results.NoContent();
    }

    private static async Task<IResult> BlockAsync(string canvas, string worker, HttpContext http, WorkerCommands commands, WorkerStore store, CancellationToken cancellationToken)
    {
        var (_, problem) = await commands.FindAsync(http, canvas, worker, adminOnly: true, cancellationToken);
        if (problem is not null) return problem;
        string reason = "Blocked by an administrator.";
        if (http.Request.ContentLength is not 0)
        {
            var (request, bad) = await RequestJson.ReadAsync<BlockRequest>(http.Request, cancellationToken);
            if (bad is not null) return bad;
            if (request!.Reason is { Length: > 1_000 }) return Problems.BadRequest("\"reason\" is longer than 1000 characters.");
            if (!string.IsNullOrWhiteSpace(request.Reason)) reason = request.Reason;
        }
        return await commands.SetStateAsync(http, canvas, worker, adminOnly: true, () => store.BlockAsync(canvas, worker, reason, cancellationToken), cancellationToken);
    }

    private static async Task<IResult> TracesAsync(string canvas, string worker, HttpContext http, WorkerCommands commands, ITraceStore traces,
        WorkqOptions options, CancellationToken cancellationToken)
    {
        var (_, problem) = await commands.FindAsync(http, canvas, worker, adminOnly: false, cancellationToken);
        if (problem is not null) return problem;
        var stored = await traces.ListAsync(canvas, worker, options.TracesPerWorker, cancellationToken);
        return Results.Text("[" + string.Join(",", stored) + "]", "application/json");
    }

    /// <summary>Why this compile refuses the deploy, or null when the code compiled.</summary>
    private static IResult? CompileProblem(CompileOutcome compilation, WorkqOptions options) => compilation.Status switch
    {
        CompileStatus.Compiled when compilation.Errors.Count == 0 => null,
        CompileStatus.Compiled => Problems.BadRequest($"The code does not compile or uses a forbidden API ({compilation.Errors.Count} error(s)).",
            new Dictionary<string, object?> { ["errors"] = compilation.Errors.Select(e => new { line = e.Line, column = e.Column, message = e.Message }).ToList() }),
        CompileStatus.TimedOut => Problems.BadRequest(
            $"The compile took too long: it was stopped at the limit of {options.CompileTimeout.TotalSeconds:0.###} s (WORKQ_COMPILE_TIMEOUT). Simplify the code (deeply nested lambdas over overloaded methods are the usual cause)."),
        CompileStatus.Crashed => Problems.BadRequest(
            $"The compiler failed on this code: it passed the compiler's memory limit of {options.CompilerHeapMegabytes} MB (WORKQ_COMPILER_HEAP_MB) or nested too deeply. Simplify the code."),
        CompileStatus.Busy => Problems.Unavailable($"Every compiler is busy ({options.MaxConcurrentCompiles} compiles at once, WORKQ_MAX_CONCURRENT_COMPILES); try again shortly.", RetryAfterSeconds),
        _ => Problems.Unavailable("The compiler could not be started; try again shortly.", RetryAfterSeconds),
    };

    private static IResult? ConcurrencyProblem(int? concurrency) =>
        concurrency is < 1 or > MaxConcurrency ? Problems.BadRequest($"\"concurrency\" must be from 1 to {MaxConcurrency}, not {concurrency}.") : null;
}

/// <summary>Checks shared by the worker routes: who may act, on which worker, and the state changes that tell every instance.</summary>
public sealed class WorkerCommands(AccessControl access, WorkerStore store, WorkerViews views, Convergence convergence, IBus controlPlane, ILogger<WorkerCommands> logger)
{
    public async Task<(WorkerRecord? Worker, IResult? Problem)> FindAsync(HttpContext http, string canvas, string worker, bool adminOnly, CancellationToken cancellationToken)
    {
        if (await access.AuthorizeCanvasAsync(http, canvas) is { } denied) return (null, denied);
        if (adminOnly && await access.AuthorizeAdminAsync(http) is { } notAdmin) return (null, notAdmin);
        if (!Names.IsValid(worker)) return (null, Problems.BadName("worker", worker));
        var record = await store.GetAsync(canvas, worker, cancellationToken);
        return record is null ? (null, Problems.NotFound($"There is no worker '{worker}' on canvas '{canvas}'.")) : (record, null);
    }

    /// <summary>Applies one of <see cref="WorkerStore"/>'s state transitions once the caller may, and tells every instance.</summary>
    public async Task<IResult> SetStateAsync(HttpContext http, string canvas, string worker, bool adminOnly, Func<Task<WorkerRecord?>> transition,
        CancellationToken cancellationToken, string? conflictIfBlocked = null)
    {
        var (_, problem) = await FindAsync(http, canvas, worker, adminOnly, cancellationToken);
        if (problem is not null) return problem;
        var record = await transition();
        if (record is null) return Problems.NotFound($"There is no worker '{worker}' on canvas '{canvas}'.");
        await controlPlane.Publish(new WorkerChanged(canvas, worker), cancellationToken);
        logger.LogInformation("{Canvas}/{Worker} is now {State}", canvas, worker, record.State);
        await convergence.WaitAsync(record, cancellationToken);
        if (conflictIfBlocked is not null && record.State == WorkerStates.Blocked)
            return Problems.Conflict($"Worker '{worker}' {conflictIfBlocked} (reason: {record.BlockedReason}).");
        return Results.Ok(await views.CreateAsync(record, withCode: false, cancellationToken));
    }
}

/// <summary>Validation of the opt-in retry policy <c>{"maxAttempts": 3, "backoffSeconds": [5, 30]}</c>.</summary>
public static class RetryPolicies
{
    public const int MaxAttempts = 100;
    public const int MaxBackoffSeconds = 86_400;

    public static (RetryPolicy? Policy, string? Error) Parse(JsonNode node)
    {
        RetryPolicy? policy;
        try
        {
            policy = node.Deserialize<RetryPolicy>(JsonDefaults.Web);
        }
        catch (JsonException)
        {
            policy = null;
        }
        const string shape = "\"retry\" must be null or {\"maxAttempts\": 1-100, \"backoffSeconds\": [seconds, ...]}";
        if (policy is null || node is not JsonObject) return (null, shape);
        if (policy.MaxAttempts is < 1 or > MaxAttempts) return (null, $"{shape}; maxAttempts was {policy.MaxAttempts}.");
        var backoff = policy.BackoffSeconds ?? [];
        if (backoff.Length > 20 || backoff.Any(s => s is < 0 or > MaxBackoffSeconds))
            return (null, $"{shape}; each backoff is 0 to {MaxBackoffSeconds} seconds, at most 20 of them.");
        return (policy with { BackoffSeconds = backoff }, null);
    }
}
