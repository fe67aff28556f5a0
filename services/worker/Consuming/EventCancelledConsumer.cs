using MassTransit;
using Workq.Shared.ControlPlane;

namespace Workq.Worker.Consuming;

public sealed class EventCancelledConsumer(CancelledEvents cancelled)
    : IConsumer<EventCancelled>, IConsumer<EventsCancelled>
{
    public Task Consume(ConsumeContext<EventCancelled> context)
    {
        cancelled.Add(context.Message.Canvas, context.Message.Worker, context.Message.EventId);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<EventsCancelled> context)
    {
        var message = context.Message;
        for (var i = 0; i < Math.Min(message.Workers.Count, message.EventIds.Count); i++)
            cancelled.Add(message.Canvas, message.Workers[i], message.EventIds[i]);
        return Task.CompletedTask;
    }
}
