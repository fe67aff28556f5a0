using MassTransit;
using Workq.Shared.ControlPlane;

namespace Workq.Control.Stats;

/// <summary>Hears the worker instances' load reports.</summary>
public sealed class WorkerInstanceLoadConsumer(InstanceLoads loads) : IConsumer<WorkerInstanceLoad>
{
    public Task Consume(ConsumeContext<WorkerInstanceLoad> context)
    {
        loads.Record(context.Message);
        return Task.CompletedTask;
    }
}
