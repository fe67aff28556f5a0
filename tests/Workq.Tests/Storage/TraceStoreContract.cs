using Workq.Shared.Storage;

namespace Workq.Tests.Storage;

/// <summary>
/// What every trace store does, run against each (PostgresTraceStoreTests, MongoTraceStoreTests): the API's trace list
/// and event lookup must not tell them apart. Every test works on canvases of its own, so the tests share one store.
/// </summary>
public abstract class TraceStoreContract
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;

    protected abstract ITraceStore Store { get; }

    private static string NewCanvas() => "traces-" + Guid.NewGuid().ToString("N")[..12];

    // Written with odd spacing and a trailing zero: a store must hand back the JSON as it was written, not re-encode
    // it.
    private static TraceEntry Trace(string canvas, string worker, int second, Guid? eventId = null)
    {
        var id = eventId ?? Guid.NewGuid();
        return new(
            canvas,
            worker,
            id,
            T0.AddSeconds(second),
            $$$"""{"id":"{{{id}}}", "worker":"{{{worker}}}","second":{{{second}}},"result":{"amount":1.50}}""");
    }

    private Task AppendAsync(int keep, params TraceEntry[] traces) => Store.AppendAsync(traces, keep, None);

    private Task<IReadOnlyList<string>> ListAsync(string canvas, string worker, int limit = 100)
        => Store.ListAsync(canvas, worker, limit, None);

    [StoreFact]
    public async Task Appended_traces_list_newest_first_as_written()
    {
        var canvas = NewCanvas();
        var (early, late, middle) = (Trace(canvas, "w", 1), Trace(canvas, "w", 3), Trace(canvas, "w", 2));
        await AppendAsync(10, early, late, middle);
        Assert.Equal([late.Json, middle.Json, early.Json], await ListAsync(canvas, "w"));
        Assert.Empty(await ListAsync(canvas, "other"));
    }

    [StoreFact]
    public async Task Traces_finished_at_the_same_instant_list_the_last_written_first()
    {
        var canvas = NewCanvas();
        var (first, second) = (Trace(canvas, "w", 1), Trace(canvas, "w", 1));
        await AppendAsync(10, first, second);
        var (third, fourth) = (Trace(canvas, "w", 1), Trace(canvas, "w", 1));
        await AppendAsync(10, third, fourth);
        Assert.Equal([fourth.Json, third.Json, second.Json, first.Json], await ListAsync(canvas, "w"));
    }

    [StoreFact]
    public async Task Only_the_last_N_of_each_worker_the_batch_touched_are_kept()
    {
        var (canvas, neighbour) = (NewCanvas(), NewCanvas());
        var others = new[] {
            Trace(canvas, "other", 1),
            Trace(canvas, "other", 2),
            Trace(neighbour, "w", 1),
            Trace(neighbour, "w", 2) };
        await AppendAsync(2, others);
        var mine = Enumerable.Range(1, 5).Select(s => Trace(canvas, "w", s)).ToArray();
        await AppendAsync(3, mine);
        Assert.Equal(mine.Reverse().Take(3).Select(t => t.Json), await ListAsync(canvas, "w"));

        // A later batch trims against what is stored, not just within itself.
        var newer = Trace(canvas, "w", 10);
        await AppendAsync(3, newer);
        Assert.Equal(new[] { newer, mine[4], mine[3] }.Select(t => t.Json), await ListAsync(canvas, "w"));

        // Untouched: another worker of the canvas and the same worker name on another canvas.
        Assert.Equal([others[1].Json, others[0].Json], await ListAsync(canvas, "other"));
        Assert.Equal([others[3].Json, others[2].Json], await ListAsync(neighbour, "w"));
    }

    [StoreFact]
    public async Task Finding_an_event_answers_its_attempts_on_that_canvas_only()
    {
        var (canvas, tenant) = (NewCanvas(), NewCanvas());
        var eventId = Guid.NewGuid();
        var (attempt1, attempt2, elsewhere) = (Trace(canvas, "w", 1, eventId), Trace(canvas, "w", 2, eventId), Trace(
            tenant,
            "spy",
            3,
            eventId));
        await AppendAsync(10, attempt1, elsewhere, attempt2, Trace(canvas, "w", 4));

        Assert.Equal([("w", attempt2.Json), ("w", attempt1.Json)], await Store.FindAsync(canvas, eventId, None));
        Assert.Equal([("spy", elsewhere.Json)], await Store.FindAsync(tenant, eventId, None));
        Assert.Empty(await Store.FindAsync(canvas, Guid.NewGuid(), None));
        Assert.Empty(await Store.FindAsync(NewCanvas(), eventId, None));
    }

    [StoreFact]
    public async Task Deleting_a_canvas_takes_its_traces_and_no_others()
    {
        var (canvas, neighbour) = (NewCanvas(), NewCanvas());
        var eventId = Guid.NewGuid();
        var kept = Trace(neighbour, "w", 1, eventId);
        await AppendAsync(10, Trace(canvas, "w", 1, eventId), Trace(canvas, "v", 2), kept);

        await Store.DeleteCanvasAsync(canvas, None);
        Assert.Empty(await ListAsync(canvas, "w"));
        Assert.Empty(await ListAsync(canvas, "v"));
        Assert.Empty(await Store.FindAsync(canvas, eventId, None));
        Assert.Equal([kept.Json], await ListAsync(neighbour, "w"));
        // Deleting again is no error: a retried canvas delete calls every store again.
        await Store.DeleteCanvasAsync(canvas, None);
    }

    [StoreFact]
    public async Task Deleting_a_worker_takes_its_traces_and_no_others()
    {
        var (canvas, neighbour) = (NewCanvas(), NewCanvas());
        var (sibling, namesake) = (Trace(canvas, "v", 2), Trace(neighbour, "w", 3));
        await AppendAsync(10, Trace(canvas, "w", 1), sibling, namesake);

        await Store.DeleteWorkerAsync(canvas, "w", None);
        Assert.Empty(await ListAsync(canvas, "w"));
        Assert.Equal([sibling.Json], await ListAsync(canvas, "v"));
        Assert.Equal([namesake.Json], await ListAsync(neighbour, "w"));
        await Store.DeleteWorkerAsync(canvas, "w", None);
    }

    [StoreFact]
    public async Task A_list_answers_at_most_its_limit_newest_first()
    {
        var canvas = NewCanvas();
        var traces = Enumerable.Range(1, 5).Select(s => Trace(canvas, "w", s)).ToArray();
        await AppendAsync(10, traces);
        Assert.Equal([traces[4].Json, traces[3].Json], await ListAsync(canvas, "w", limit: 2));
        Assert.Equal(5, (await ListAsync(canvas, "w", limit: 10)).Count);
    }

    [StoreFact]
    public async Task An_empty_batch_changes_nothing()
    {
        var canvas = NewCanvas();
        var trace = Trace(canvas, "w", 1);
        await AppendAsync(10, trace);
        await AppendAsync(0);
        Assert.Equal([trace.Json], await ListAsync(canvas, "w"));
    }
}
