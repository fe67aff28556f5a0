namespace Workq.Bench.Scenarios;

/// <summary>
/// Scenario 12 (issue 30): a worker at concurrency 1, paused, with 1,000 normal events queued and then 10 high ones;
/// resumed. The figures come from the events' statuses: the position each high event started at (API.md "Priorities":
/// among the first 10 + concurrency) and how long after the resume the high and the normal ones started.
/// </summary>
public sealed class PriorityScenario(WorkqApi api)
{
    private const string Canvas = "bench-priorities";
    private const string Worker = "w";
    private const int Normal = 1_000;
    private const int High = 10;

    public async Task<PriorityResult> RunAsync(CancellationToken cancellationToken)
    {
        await api.CreateCanvasAsync(Canvas, cancellationToken);
        try
        {
            await api.DeployAsync(Canvas, Worker, "return null;", 1, cancellationToken);
            await api.PostAsync(new Uri(api.ListUrl(Canvas), $"workers/{Worker}/pause"), cancellationToken);
            var normal = new List<Guid>();
            for (var i = 0; i < Normal; i += 500) normal.AddRange(await EmitAsync(500, "normal", cancellationToken));
            var high = await EmitAsync(High, "high", cancellationToken);
            var resumedAt = DateTimeOffset.UtcNow;
            await api.PostAsync(new Uri(api.ListUrl(Canvas), $"workers/{Worker}/resume"), cancellationToken);
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (await api.ProcessedAsync(Canvas, Worker, cancellationToken) < Normal + High)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException("the priority scenario's events did not all run in two minutes");
                await Task.Delay(100, cancellationToken);
            }
            var started = await StartedAsync(normal.Concat(high), cancellationToken);
            var order = started.OrderBy(s => s.Value).Select(s => s.Key).ToList();
            var positions = high.Select(id => order.IndexOf(id)).Order().ToList();
            var highDelays = high.Select(id => (started[id] - resumedAt).TotalMilliseconds).Order().ToList();
            var normalDelays = normal.Select(id => (started[id] - resumedAt).TotalMilliseconds).Order().ToList();
            return new PriorityResult(Normal, High, positions[^1], highDelays[^1], normalDelays[normalDelays.Count / 2],
                normalDelays[^1]);
        }
        finally
        {
            await api.DeleteCanvasAsync(Canvas, CancellationToken.None);
        }
    }

    private async Task<List<Guid>> EmitAsync(int count, string priority, CancellationToken cancellationToken)
    {
        var items = string.Join(",", Enumerable.Repeat(
            $$"""{"worker":"{{Worker}}","event":null,"priority":"{{priority}}"}""", count));
        using var accepted = await api.PostJsonAsync(api.BatchUrl(Canvas), $"[{items}]", cancellationToken);
        return accepted.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetGuid()).ToList();
    }

    /// <summary>When each event's run started, from its status (16 reads at a time).</summary>
    private async Task<Dictionary<Guid, DateTimeOffset>> StartedAsync(IEnumerable<Guid> ids,
        CancellationToken cancellationToken)
    {
        var started = new System.Collections.Concurrent.ConcurrentDictionary<Guid, DateTimeOffset>();
        await Parallel.ForEachAsync(ids, new ParallelOptions
        {
            MaxDegreeOfParallelism = 16,
            CancellationToken =
            cancellationToken
        }, async (id, token) =>
        {
            using var status = await api.GetJsonAsync(api.EventUrl(Canvas, id, wait: 30), token);
            started[id] = status.RootElement.GetProperty("startedAt").GetDateTimeOffset();
        });
        return new Dictionary<Guid, DateTimeOffset>(started);
    }
}
