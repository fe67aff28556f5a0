using MassTransit;
using Workq.Shared.ControlPlane;

namespace Workq.Shared.Messaging;

/// <summary>
/// Every process that publishes keyed events forgets what it knew of a worker's lanes when the worker changes.
/// </summary>
public sealed class ForgetLanesOnWorkerChanged(OrderingLanes lanes) : IConsumer<WorkerChanged>
{
    public Task Consume(ConsumeContext<WorkerChanged> context)
    {
        lanes.Forget(context.Message.Canvas, context.Message.Worker);
        return Task.CompletedTask;
    }
}
