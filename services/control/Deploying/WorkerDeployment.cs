using MassTransit;
using Workq.Control.Apis;
using Workq.Control.Compiling;
using Workq.Shared.ControlPlane;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;
using Workq.Shared.Storage;

namespace Workq.Control.Deploying;

/// <summary>A deploy as PUT asks for it: the code, already within WORKQ_MAX_CODE_BYTES, and the settings it sets.</summary>
public sealed record WorkerDeploy(string Code, WorkerSettings Settings);

/// <summary>What a deploy did: <c>Worker</c> is null when the compile refused it (see <c>Compilation</c>).</summary>
public sealed record DeployOutcome(CompileOutcome Compilation, WorkerView? Worker = null, bool Created = false);

/// <summary>
/// The deploy sequence of a worker: compile (refusing bad code before it reaches any worker instance), declare its
/// queue, store code, assembly and settings, tell every instance, and wait until they run the new version.
/// </summary>
public sealed class WorkerDeployment(CompilerPool compilers, Topology topology, WorkerStore store, IBus controlPlane,
    Convergence convergence, WorkerViews views, ILogger<WorkerDeployment> logger)
{
    public const int DefaultConcurrency = 10;

    public async Task<DeployOutcome> DeployAsync(WorkerRoute route, WorkerDeploy deploy, CancellationToken cancellationToken)
    {
        var (canvas, worker) = route;
        var compilation = await compilers.CompileAsync(deploy.Code, cancellationToken);
        if (compilation is not { Status: CompileStatus.Compiled, Errors.Count: 0 })
        {
            logger.LogInformation("{Canvas}/{Worker} not deployed: compile {Status}, {Errors} error(s)", canvas, worker, compilation.Status, compilation.Errors.Count);
            return new DeployOutcome(compilation);
        }

        // The queue exists before the answer, so an emit right after the PUT is never taken for an unknown worker.
        await topology.DeclareWorkerAsync(canvas, worker, cancellationToken);
        var (record, created) = await store.PutAsync(canvas, worker, deploy.Code, compilation.Assembly!, deploy.Settings, DefaultConcurrency, cancellationToken);
        await controlPlane.Publish(new WorkerChanged(canvas, worker), cancellationToken);
        await convergence.WaitAsync(record, cancellationToken);
        logger.LogInformation("{Canvas}/{Worker} deployed as version {Version}", canvas, worker, record.Version);
        return new DeployOutcome(compilation, await views.CreateAsync(record, withCode: true, cancellationToken), created);
    }
}
