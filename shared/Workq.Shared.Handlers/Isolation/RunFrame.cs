namespace Workq.Shared.Handlers.Isolation;

// The frames of the runner channel (RunnerProtocol), one record each: its type byte, its one write and its one read. A
// read checks every field and that nothing is left over, so a runner that sends anything else breaks the protocol.

/// <summary>Supervisor to runner: one event to run. The run id is the runner's only handle on it.</summary>
public readonly record struct RunFrame(
    long RunId,
    int Key,
    Guid EventId,
    string Worker,
    DateTimeOffset EnqueuedAt,
    int Attempt,
    int Depth,
    TimeSpan Timeout,
    ReadOnlyMemory<byte> Body,
    Guid? BatchId = null,
    Messaging.BatchSummary? Callback = null,
    int Resume = 0)
{
    public const byte Type = 4;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(Key);
        frame.Guid(EventId);
        frame.String(Worker);
        frame.Long(EnqueuedAt.UtcTicks);
        frame.Int(Attempt);
        frame.Int(Depth);
        frame.Int((int)Math.Min(int.MaxValue, Timeout.TotalMilliseconds));
        frame.Bytes(Body.Span);
        frame.Bool(BatchId is not null);
        frame.Guid(BatchId ?? default);
        var callback = Callback ?? default;
        frame.Bool(Callback is not null);
        frame.Guid(callback.Id);
        frame.Int(callback.Total);
        frame.Int(callback.Completed);
        frame.Int(callback.Failed);
        frame.Int(callback.Cancelled);
        frame.Int(Resume);
    }

    public static RunFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "Run");
        var frame = new RunFrame(
            reader.Long(),
            reader.Int(),
            reader.Guid(),
            reader.Text("worker"),
            new DateTimeOffset(reader.Long(), TimeSpan.Zero),
            reader.Int(),
            reader.Int(),
            TimeSpan.FromMilliseconds(reader.Int()),
            reader.Bytes().ToArray());
        var (inBatch, batchId) = (reader.Bool(), reader.Guid());
        var (isCallback, callback) = (reader.Bool(),
            new Messaging.BatchSummary(reader.Guid(), reader.Int(), reader.Int(), reader.Int(), reader.Int()));
        frame = frame with
        {
            BatchId = inBatch ? batchId : null,
            Callback = isCallback ? callback : null,
            Resume = reader.Int(),
        };
        reader.End();
        return frame;
    }
}
