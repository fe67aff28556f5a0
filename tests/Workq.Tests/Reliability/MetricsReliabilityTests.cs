namespace Workq.Tests.Reliability;

/// <summary>The per-minute metrics across a worker kill -9: no flushed delta is written twice.</summary>
[Collection(ReliabilityCollection.Name)]
[Trait(TestPhase.Trait, TestPhase.Alone)]
[Trait("Category", "Reliability")]
public sealed class MetricsReliabilityTests(WorkqCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_a_worker_counts_no_run_twice_in_the_minutes()
    {
        foreach (var dead in cluster.Workers.Where(w => w.HasExited).ToList()) cluster.Workers.Remove(dead);
        while (cluster.Workers.Count < 2) await cluster.StartWorkerAsync();
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("mrel");
        await cluster.DeployAsync(canvas, "rec", $$"""
            using (var r = await Http.PostAsync(
                "{{sink.Url}}", new StringContent(Meta.Id.ToString()), CancellationToken)) { }
            return null;
            """, 50, token);
        await cluster.EventuallyAsync(
            () => cluster.WorkerAsync(canvas, "rec"),
            w => w["stats"]!["consumers"]!.GetValue<long>() == 2,
            TimeSpan.FromSeconds(30),
            "two consumers");
        var from = DateTime.UtcNow.AddMinutes(-1);

        var accepted = new List<Guid>();
        for (var batch = 0; batch < 8; batch++)
            accepted.AddRange(
                await cluster.EmitBatchAsync(
                    canvas,
                    Enumerable.Range(0, 500).Select(i => ("rec", i.ToString())),
                    token));
        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Count),
            c => c >= 1_000,
            TimeSpan.FromSeconds(60),
            "events in flight");
        cluster.Workers[0].Kill();
        while (cluster.Workers.Count(w => !w.HasExited) < 2) await cluster.StartWorkerAsync();
        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Select(Guid.Parse).ToHashSet()),
            seen => accepted.All(seen.Contains),
            TimeSpan.FromMinutes(3),
            "every event run after the kill");

        // Each flush writes the minutes first, then the counter: at any moment the minutes hold at least the counter.
        var to = DateTime.UtcNow.AddMinutes(1);
        var query = $"from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}";
        long counter = 0, minutes = 0;
        await cluster.EventuallyAsync(async () =>
        {
            counter = (await cluster.WorkerAsync(canvas, "rec"))["stats"]!["processed"]!.GetValue<long>();
            var points = (await cluster.JsonAsync(
                HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/workers/rec/metrics?{query}"),
                token))!["points"]!.AsArray();
            minutes = points.Sum(p => p!["processed"]!.GetValue<long>());
            return minutes;
        }, m => m >= counter && counter > 0, TimeSpan.FromSeconds(30), "the minutes to hold the counter");

        var runs = sink.Calls.Count;
        output.WriteLine($"accepted {accepted.Count}, runs seen by the sink {runs} "
            + $"({runs - sink.Calls.Distinct().Count()} duplicates), processed counter {counter}, minutes {minutes}");
        // Never more than really ran (a minute counted twice would be), never less than the counter written after it in
        // each flush.
        Assert.InRange(minutes, counter, runs);
    }
}
