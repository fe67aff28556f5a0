using MassTransit;
using Workq.Shared.ControlPlane;

namespace Workq.Worker.Consuming;

public sealed class EventCancelledConsumer(CancelledEvents cancelled) : IConsumer<EventCancelled>
{
    public Task Consume(ConsumeContext<EventCancelled> context)
    {
        cancelled.Add(context.Message.Canvas, context.Message.Worker, context.Message.EventId);
        return Task.CompletedTask;
    }
}
