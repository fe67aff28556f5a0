using MassTransit;
using Workq.Shared.ControlPlane;
using Workq.Shared.Storage;

namespace Workq.Worker.Emitting;

/// <summary>
/// Blocks a worker in the store, then tells every instance on the control plane, so that they stop consuming it.
/// </summary>
public sealed class WorkerBlocker(WorkerStore store, IBus bus) : IWorkerBlocker
{
    public async Task BlockAsync(
        string canvas,
        string worker,
        long incarnation,
        string reason,
        CancellationToken cancellationToken)
    {
        await store.BlockAsync(canvas, worker, reason, cancellationToken, incarnation);
        await bus.Publish(new WorkerChanged(canvas, worker), cancellationToken);
    }
}
