using MassTransit;
using Workq.Shared.ControlPlane;
using Workq.Worker.Runs;

namespace Workq.Worker.Consuming;

/// <summary>
/// Un-enqueued events are skipped when delivered; a cancel (<c>By</c> set) also stops a run of them under way here.
/// </summary>
public sealed class EventCancelledConsumer(CancelledEvents cancelled, IHandlerHost host)
    : IConsumer<EventCancelled>, IConsumer<EventsCancelled>
{
    public Task Consume(ConsumeContext<EventCancelled> context)
    {
        var message = context.Message;
        Cancel(message.Canvas, message.Worker, message.EventId, message.By);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<EventsCancelled> context)
    {
        var message = context.Message;
        for (var i = 0; i < Math.Min(message.Workers.Count, message.EventIds.Count); i++)
            Cancel(message.Canvas, message.Workers[i], message.EventIds[i], message.By);
        return Task.CompletedTask;
    }

    private void Cancel(string canvas, string worker, Guid id, string? by)
    {
        cancelled.Add(canvas, worker, id);
        if (by is not null) host.Cancel(canvas, id, by);
    }
}
