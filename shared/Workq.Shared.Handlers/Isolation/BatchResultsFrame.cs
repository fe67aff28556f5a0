using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Runner to supervisor: a callback's <c>Batch.Results()</c> asks for the page of its batch's members from position
/// <c>After</c> on; numbered within the run, for the reply.
/// </summary>
public readonly record struct BatchResultsFrame(long RunId, int Number, long After)
{
    public const byte Type = 107;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(Number);
        frame.Long(After);
    }

    public static BatchResultsFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "BatchResults");
        var frame = new BatchResultsFrame(reader.Long(), reader.Int(), reader.Long());
        reader.End();
        return frame;
    }
}
