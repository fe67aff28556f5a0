using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Control.Deploying;
using Workq.Shared.ControlPlane;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// What the worker routes share: finding the worker, and the changes that every instance must apply before the answer.
/// </summary>
public sealed class WorkerCommands(
    WorkerStore store,
    WorkerViews views,
    AppliedChangeWaiter appliedChange,
    IBus controlPlane,
    ILogger<WorkerCommands> logger)
{
    public Task<WorkerRecord?> FindAsync(WorkerRoute route, CancellationToken cancellationToken)
        => store.GetAsync(route.Canvas, route.Worker, cancellationToken);

    /// <summary>The 404 when there is no such worker, else null.</summary>
    public async Task<ProblemHttpResult?> MissingAsync(WorkerRoute route, CancellationToken cancellationToken) =>
        await FindAsync(route, cancellationToken) is null ? NoSuchWorker(route) : null;

    public static ProblemHttpResult NoSuchWorker(WorkerRoute route)
        => Problems.NotFound($"There is no worker '{route.Worker}' on canvas '{route.Canvas}'.");

    /// <summary>
    /// Applies a change of the worker's record (settings), tells every instance and answers the worker once they
    /// applied it.
    /// </summary>
    public async Task<Results<Ok<WorkerView>, ProblemHttpResult>> ChangeAsync(
        WorkerRoute route,
        Func<Task<WorkerRecord?>> change,
        CancellationToken cancellationToken) =>
        await ApplyAsync(route, change, cancellationToken) is { } record
            ? await ViewAsync(record, cancellationToken)
            : NoSuchWorker(route);

    /// <summary>
    /// Applies one of <see cref="WorkerStore"/>'s state transitions, tells every instance, and answers the worker.
    /// </summary>
    public async Task<Results<Ok<WorkerView>, ProblemHttpResult>> SetStateAsync(
        WorkerRoute route,
        Func<Task<WorkerRecord?>> transition,
        CancellationToken cancellationToken,
        string? conflictIfBlocked = null)
    {
        if (await ApplyAsync(route, transition, cancellationToken) is not { } record) return NoSuchWorker(route);
        logger.LogInformation("{Canvas}/{Worker} is now {State}", route.Canvas, route.Worker, record.State);
        if (conflictIfBlocked is not null && record.State == WorkerStates.Blocked)
            return Problems.Conflict($"Worker '{route.Worker}' {conflictIfBlocked} (reason: {record.BlockedReason}).");
        return await ViewAsync(record, cancellationToken);
    }

    private async Task<WorkerRecord?> ApplyAsync(
        WorkerRoute route,
        Func<Task<WorkerRecord?>> change,
        CancellationToken cancellationToken)
    {
        var record = await change();
        if (record is null) return null;
        await controlPlane.Publish(new WorkerChanged(route.Canvas, route.Worker), cancellationToken);
        await appliedChange.WaitAsync(record, cancellationToken);
        return record;
    }

    private async Task<Ok<WorkerView>> ViewAsync(WorkerRecord record, CancellationToken cancellationToken) =>
        TypedResults.Ok(await views.CreateAsync(record, withCode: false, cancellationToken));
}
