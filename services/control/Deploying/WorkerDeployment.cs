using MassTransit;
using Workq.Control.Apis;
using Workq.Control.Compiling;
using Workq.Shared.ControlPlane;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Deploying;

/// <summary>
/// The deploy sequence of a worker: compile (refusing bad code before it reaches any worker instance), store code,
/// assembly and settings and declare its queue while holding its name (so neither outlives a deletion of the worker or
/// its canvas), tell every instance, and wait until they run the new version.
/// </summary>
public sealed class WorkerDeployment(CompilerPool compilers, Topology topology, WorkerStore store, IBus controlPlane,
    AppliedChangeWaiter appliedChange, WorkerViews views, ILogger<WorkerDeployment> logger)
{
    public const int DefaultConcurrency = 10;

    /// <param name="canvasIncarnation">The canvas the caller was authorized for; <see cref="CanvasGoneException"/> when
    /// it was deleted since.</param>
    public async Task<DeployOutcome> DeployAsync(
        WorkerRoute route,
        long canvasIncarnation,
        WorkerDeploy deploy,
        CancellationToken cancellationToken)
    {
        var (canvas, worker) = route;
        var compilation = await compilers.CompileAsync(deploy.Code, cancellationToken);
        if (compilation is not { Status: CompileStatus.Compiled, Errors.Count: 0 })
        {
            logger.LogInformation(
                "{Canvas}/{Worker} not deployed: compile {Status}, {Errors} error(s)",
                canvas,
                worker,
                compilation.Status,
                compilation.Errors.Count);
            return new DeployOutcome(compilation);
        }

        var stored = await StoreAsync(
            canvas,
            canvasIncarnation,
            worker,
            deploy,
            compilation.Assembly!,
            cancellationToken);
        if (stored is not { } result) return new DeployOutcome(compilation, Deleting: true);
        var (record, created) = result;
        await controlPlane.Publish(new WorkerChanged(canvas, worker), cancellationToken);
        await appliedChange.WaitAsync(record, cancellationToken);
        logger.LogInformation("{Canvas}/{Worker} deployed as version {Version}", canvas, worker, record.Version);
        return new DeployOutcome(
            compilation,
            await views.CreateAsync(record, withCode: true, cancellationToken),
            created);
    }

    /// <summary>
    /// The queue exists before the answer, so an emit right after the PUT is never taken for an unknown worker. An
    /// existing worker's queue is declared again (idempotent, and how a queue the broker lost comes back) before its
    /// row is locked; a new worker's only once its row is written, and deleted again when the deploy fails after it.
    /// Null when the worker is still being deleted.
    /// </summary>
    private async Task<(WorkerRecord Worker, bool Created)?> StoreAsync(
        string canvas,
        long canvasIncarnation,
        string worker,
        WorkerDeploy deploy,
        byte[] assembly,
        CancellationToken cancellationToken)
    {
        var created = false;
        var hold = await store.HoldAsync(canvas, canvasIncarnation, worker, cancellationToken);
        try
        {
            if (hold.Deleting) return null;
            if (hold.Worker is not null) await topology.DeclareWorkerAsync(canvas, worker, cancellationToken);
            var (record, isNew) = await hold.PutAsync(
                deploy.Code,
                assembly,
                deploy.Settings,
                DefaultConcurrency,
                cancellationToken);
            created = isNew;
            if (created) await topology.DeclareWorkerAsync(canvas, worker, cancellationToken);
            await hold.CommitAsync(cancellationToken);
            return (record, created);
        }
        catch when (created)
        {
            await hold.DisposeAsync();
            await ForgetQueueAsync(canvas, worker);
            throw;
        }
        finally
        {
            await hold.DisposeAsync();
        }
    }

    /// <summary>
    /// A new worker's deploy failed after declaring its queue: the queue goes unless the worker exists after all (say,
    /// a commit that did land).
    /// </summary>
    private async Task ForgetQueueAsync(string canvas, string worker)
    {
        try
        {
            await using var hold = await store.HoldAsync(canvas, canvasIncarnation: 0, worker, CancellationToken.None);
            if (hold.Worker is null) await topology.DeleteWorkerAsync(canvas, worker, lanes: 0, priorities: false,
                CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "The queue of {Canvas}/{Worker}, declared by a deploy that failed, could not be " +
                "deleted; it stays on the broker until the worker is deployed (which adopts it) and deleted", canvas,
                    worker);
        }
    }
}
