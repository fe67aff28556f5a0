using Workq.Shared.Messaging;
using Workq.Shared.Scripting;

namespace Workq.Worker.Consuming;

/// <summary>A handler's <c>Emit</c>: same canvas, one level deeper, same trace, confirmed like any emit.</summary>
public sealed class HandlerEmitter(EventPublisher publisher, EventEnvelope parent, int maxDepth) : IHandlerEmitter
{
    public async Task<Guid> EmitAsync(string worker, ReadOnlyMemory<byte> eventJson, CancellationToken cancellationToken)
    {
        if (!Workq.Shared.Names.IsValid(worker))
            throw new ArgumentException($"Invalid worker name '{worker}': use {Workq.Shared.Names.Rule}.", nameof(worker));
        var depth = parent.Depth + 1;
        if (depth > maxDepth)
            throw new InvalidOperationException($"Emit refused: the emit chain is {depth} events deep, over the limit of {maxDepth} (WORKQ_MAX_EMIT_DEPTH).");
        var now = DateTimeOffset.UtcNow;
        var envelope = new EventEnvelope(Guid.CreateVersion7(now), parent.Canvas, worker, now, depth, parent.TraceParent);
        await publisher.PublishAsync(envelope, eventJson, cancellationToken);
        return envelope.Id;
    }
}
