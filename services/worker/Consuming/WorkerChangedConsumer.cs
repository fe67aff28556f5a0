using MassTransit;
using Workq.Shared.ControlPlane;

namespace Workq.Worker.Consuming;

/// <summary>Hears the control plane and reconciles the one worker it names.</summary>
public sealed class WorkerChangedConsumer(WorkerReconciler supervisor) : IConsumer<WorkerChanged>
{
    public Task Consume(ConsumeContext<WorkerChanged> context) =>
        supervisor.ReconcileAsync(context.Message.Canvas, context.Message.Worker, context.CancellationToken);
}
