using MassTransit;
using Workq.Shared.Auth;

namespace Workq.Shared.ControlPlane;

/// <summary>Keeps this instance's canvas directory in step with creates and deletes made anywhere.</summary>
public sealed class CanvasChangedConsumer(CanvasDirectory directory) : IConsumer<CanvasChanged>
{
    public Task Consume(ConsumeContext<CanvasChanged> context)
    {
        directory.Invalidate();
        return Task.CompletedTask;
    }
}
