using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Runner to supervisor: a run's <c>EmitBatch</c>, numbered among its emits; answered with an <see
/// cref="EmitReplyFrame"/> carrying the batch's id.
/// </summary>
public readonly record struct EmitBatchFrame(
    long RunId,
    int Number,
    IReadOnlyList<BatchEmitItem> Events,
    BatchEmitItem? OnComplete,
    BatchEmitItem? OnSuccess,
    string? Step = null)
{
    public const byte Type = 106;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(Number);
        frame.Int(Events.Count);
        foreach (var item in Events) Item(frame, item);
        Optional(frame, OnComplete);
        Optional(frame, OnSuccess);
        frame.String(Step);
    }

    public static EmitBatchFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "EmitBatch");
        var (runId, number) = (reader.Long(), reader.Int());
        var count = reader.Count(BatchLimits.MaxEvents, "events");
        var events = new BatchEmitItem[count];
        for (var i = 0; i < count; i++) events[i] = Item(ref reader);
        var onComplete = reader.Bool() ? Item(ref reader) : (BatchEmitItem?)null;
        var onSuccess = reader.Bool() ? Item(ref reader) : (BatchEmitItem?)null;
        var step = reader.String();
        reader.End();
        return new EmitBatchFrame(runId, number, events, onComplete, onSuccess, step);
    }

    private static void Item(FrameOutput.Frame frame, BatchEmitItem item)
    {
        frame.String(item.Worker);
        frame.Bytes(item.Json.Span);
    }

    private static void Optional(FrameOutput.Frame frame, BatchEmitItem? item)
    {
        frame.Bool(item is not null);
        if (item is { } given) Item(frame, given);
    }

    private static BatchEmitItem Item(ref FrameReader reader) =>
        new(reader.Text("worker"), reader.Bytes().ToArray());
}
