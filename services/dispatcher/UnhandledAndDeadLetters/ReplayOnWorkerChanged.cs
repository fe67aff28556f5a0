using MassTransit;
using Workq.Shared.ControlPlane;

namespace Workq.Dispatcher.UnhandledAndDeadLetters;

/// <summary>A worker was created or changed: its parked events may be waiting.</summary>
public sealed class ReplayOnWorkerChanged(UnhandledReplayer replayer) : IConsumer<WorkerChanged>
{
    public Task Consume(ConsumeContext<WorkerChanged> context)
    {
        replayer.Wake();
        return Task.CompletedTask;
    }
}
