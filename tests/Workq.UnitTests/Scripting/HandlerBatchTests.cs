using System.Globalization;
using System.Text;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Scripting;

namespace Workq.UnitTests.Scripting;

/// <summary>
/// What a handler sees of batches: EmitBatch's items and limits, and a callback's Batch paging its results.
/// </summary>
public sealed class HandlerBatchTests
{
    [Fact]
    public async Task Results_reads_every_page_in_order_and_parses_each_result()
    {
        var emitter = new FakeEmitter { PageSize = 2 };
        var ids = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToList();
        emitter.Results.AddRange(ids.Select((id, i) => i == 3
            ? new BatchResult(id, "square", "failed", null, "InvalidOperationException: no")
            : new BatchResult(id, "square", "completed", (i * i).ToString(CultureInfo.InvariantCulture), null)));
        var batch = new HandlerBatch(Guid.NewGuid(), 5, 4, 1, 0, emitter);

        var read = new List<(Guid Id, string Worker, string Status, System.Text.Json.Nodes.JsonNode? Result,
            string? Error)>();
        await foreach (var r in batch.Results()) read.Add(r);

        Assert.Equal(ids, read.Select(r => r.Id));
        Assert.Equal([0L, 2L, 4L], emitter.PagesAsked);
        Assert.Equal(16, read[4].Result!.GetValue<int>());
        Assert.Null(read[3].Result);
        Assert.Equal("failed", read[3].Status);
        Assert.StartsWith("InvalidOperationException", read[3].Error);
        Assert.Equal((5, 4, 1, 0), (batch.Total, batch.Completed, batch.Failed, batch.Cancelled));
    }

    [Fact]
    public async Task EmitBatch_sends_each_event_and_callback_as_json_and_refuses_more_than_a_batch_holds()
    {
        var emitter = new FakeEmitter();
        var globals = Scripts.Globals(null, emitter);

        await globals.EmitBatch(
            [("square", new { n = 1 }), ("square", null)],
            onComplete: ("sum", new { job = "j" }));
        var (events, onComplete, onSuccess) = Assert.Single(emitter.Batches);
        Assert.Equal(["{\"n\":1}", "null"], events.Select(e => Encoding.UTF8.GetString(e.Json.Span)));
        Assert.Equal(("sum", "{\"job\":\"j\"}"), (onComplete!.Value.Worker,
            Encoding.UTF8.GetString(onComplete.Value.Json.Span)));
        Assert.Null(onSuccess);

        var tooMany = await Assert.ThrowsAsync<ArgumentException>(() => globals.EmitBatch(
            Enumerable.Range(0, BatchLimits.MaxEvents + 1).Select(i => ("square", (object?)i))));
        Assert.Contains("at most 1000 events", tooMany.Message);
        Assert.Single(emitter.Batches);
    }
}
