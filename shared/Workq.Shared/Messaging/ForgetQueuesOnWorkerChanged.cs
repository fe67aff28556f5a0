using MassTransit;
using Workq.Shared.ControlPlane;

namespace Workq.Shared.Messaging;

/// <summary>
/// Every process that publishes events forgets what it knew of a worker's on-demand queues when the worker changes.
/// </summary>
public sealed class ForgetQueuesOnWorkerChanged(OnDemandQueues queues) : IConsumer<WorkerChanged>
{
    public Task Consume(ConsumeContext<WorkerChanged> context)
    {
        queues.Forget(context.Message.Canvas, context.Message.Worker);
        return Task.CompletedTask;
    }
}
