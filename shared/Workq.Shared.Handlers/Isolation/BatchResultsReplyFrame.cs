using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Supervisor to runner: the answer to a <see cref="BatchResultsFrame"/>, a page (<c>Next</c> -1 after the last) or
/// why it was refused.
/// </summary>
public readonly record struct BatchResultsReplyFrame(long RunId, int Number, BatchResultsPage? Page, string? Refusal)
{
    public const byte Type = 9;

    public void Write(FrameOutput output)
    {
        using var frame = output.Begin(Type);
        frame.Long(RunId);
        frame.Int(Number);
        frame.String(Refusal);
        var items = Page?.Items ?? [];
        frame.Long(Page?.Next ?? -1);
        frame.Int(items.Count);
        foreach (var item in items)
        {
            frame.Guid(item.Id);
            frame.String(item.Worker);
            frame.String(item.Status);
            frame.String(item.ResultJson);
            frame.String(item.Error);
        }
    }

    public static BatchResultsReplyFrame Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload, "BatchResultsReply");
        var (runId, number, refusal, next) = (reader.Long(), reader.Int(), reader.String(), reader.Long());
        var count = reader.Count(BatchLimits.ResultsPerPage, "results");
        var items = new BatchResult[count];
        for (var i = 0; i < count; i++)
            items[i] = new BatchResult(reader.Guid(), reader.Text("worker"), reader.Text("status"), reader.String(),
                reader.String());
        reader.End();
        return new BatchResultsReplyFrame(runId, number, refusal is null ? new BatchResultsPage(items, next) : null,
            refusal);
    }
}
