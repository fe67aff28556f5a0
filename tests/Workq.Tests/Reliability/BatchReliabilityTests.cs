namespace Workq.Tests.Reliability;

/// <summary>
/// Batches under faults (API.md "Batches", guarantees): a worker instance killed in the middle of a three-stage
/// pipeline, and the whole data path killed during a batch, with several worker and dispatcher instances. The answers
/// are exact, the counts count each member once, and no callback runs twice. It kills only its own cluster's services,
/// so it runs in the background beside the shared tests.
/// </summary>
[Collection(BatchFaultsCollection.Name)]
[Trait(TestPhase.Trait, TestPhase.Background)]
[Trait("Category", "Reliability")]
public sealed class BatchReliabilityTests(WorkqCluster cluster, ITestOutputHelper output)
{
    private const string Square = """
        await Task.Delay(40, CancellationToken);
        var n = Event!["n"]!.GetValue<int>();
        return n * n;
        """;

    /// <summary>
    /// A callback that runs <paramref name="code"/>, then says it ran (its event id, then the JSON of <paramref
    /// name="value"/>) to the sink, and returns the value.
    /// </summary>
    private static string Recorded(CallbackSink sink, string value, string code = "") => $$"""
        {{code}}
        var value = {{value}};
        using (var r = await Http.PostAsync("{{sink.Url}}",
            new StringContent(Meta.Id + " " + System.Text.Json.JsonSerializer.Serialize(value)), CancellationToken)) { }
        return value;
        """;

    private async Task EnsureAsync(int workers, int dispatchers)
    {
        foreach (var dead in cluster.Workers.Where(w => w.HasExited).ToList()) cluster.Workers.Remove(dead);
        while (cluster.Workers.Count < workers) await cluster.StartWorkerAsync();
        while (cluster.ExtraDispatchers.Count(d => !d.HasExited) < dispatchers - 1)
            await cluster.StartDispatcherAsync();
    }

    private async Task<JsonNode> FinishedAsync(string canvas, Guid batch, string token) =>
        await cluster.EventuallyAsync(
            async () => (await cluster.JsonAsync(HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/batches/{batch}?wait=20"), token))!,
            b => b["state"]!.GetValue<string>() == "completed",
            TimeSpan.FromMinutes(3),
            $"batch {batch} completed");

    /// <summary>The sink's calls as (event id, value), with how many times each callback ran.</summary>
    private static List<(Guid Id, string Value)> Callbacks(CallbackSink sink) => sink.Calls
        .Select(c => c.Split(' ', 2))
        .Select(p => (Guid.Parse(p[0]), p[1]))
        .ToList();

    [Fact]
    public async Task A_three_stage_pipeline_gives_the_exact_answer_with_a_worker_instance_killed_in_the_middle()
    {
        await EnsureAsync(workers: 2, dispatchers: 2);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("pipe");
        await cluster.DeployAsync(canvas, "split", """
            return await EmitBatch(
                Enumerable.Range(1, 1000).Select(i => ("square", (object?)new { n = i })),
                onComplete: ("sum", null));
            """, token: token);
        await cluster.DeployAsync(canvas, "square", Square, concurrency: 10, token: token);
        await cluster.DeployAsync(canvas, "sum", Recorded(sink, "new { sum, count }", """
            long sum = 0, count = 0;
            await foreach (var r in Batch!.Results()) { sum += r.Result!.GetValue<long>(); count++; }
            await Emit("report", new { sum, count, total = Batch.Total, completed = Batch.Completed });
            """), token: token);
        // The report starts a second batch, whose callback carries the answer on.
        await cluster.DeployAsync(canvas, "report", """
            return await EmitBatch(
                new[] { ("square", (object?)new { n = 2 }), ("square", (object?)new { n = 3 }) },
                onComplete: ("final", Event));
            """, token: token);
        await cluster.DeployAsync(canvas, "final", Recorded(sink, "Event!.ToJsonString()"), token: token);
        await cluster.EventuallyAsync(
            () => cluster.WorkerAsync(canvas, "square"),
            w => w["stats"]!["consumers"]!.GetValue<long>() == 2,
            TimeSpan.FromSeconds(30),
            "two consumers of square");

        var split = await cluster.EmitAsync(canvas, "split", "null", token);
        var splitDone = (await cluster.JsonAsync(HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/events/{split}?wait=30"), token))!;
        var batch = splitDone["result"]!.GetValue<Guid>();
        await cluster.EventuallyAsync(
            async () => (await cluster.JsonAsync(HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/batches/{batch}"), token))!,
            b => b["completed"]!.GetValue<int>() >= 250,
            TimeSpan.FromSeconds(60),
            "a quarter of the squares done");
        var victim = cluster.Workers[0];
        victim.Kill();
        await EnsureAsync(workers: 2, dispatchers: 2);

        var first = await FinishedAsync(canvas, batch, token);
        Assert.Equal(1000, first["total"]!.GetValue<int>());
        Assert.Equal(1000, first["completed"]!.GetValue<int>());
        var answer = await cluster.EventuallyAsync(
            () => Task.FromResult(Callbacks(sink)),
            calls => calls.Count(c => c.Value.Contains("total", StringComparison.Ordinal)) > 0,
            TimeSpan.FromMinutes(2),
            "the final callback");
        // Every callback ran once: one call per callback event, one event per stage.
        Assert.Equal(2, answer.Count);
        Assert.Equal(2, answer.Select(c => c.Id).Distinct().Count());
        var final = JsonNode.Parse(JsonNode.Parse(answer.Single(c => c.Value.Contains("total",
            StringComparison.Ordinal)).Value)!.GetValue<string>())!;
        output.WriteLine($"pipeline answer after the kill: {final.ToJsonString()}; first batch {first.ToJsonString()}");
        // 1² + 2² + ... + 1000², each square counted once though some ran twice.
        Assert.Equal(333_833_500L, final["sum"]!.GetValue<long>());
        Assert.Equal(1000, final["count"]!.GetValue<long>());
        Assert.Equal(1000, final["total"]!.GetValue<int>());
        Assert.Equal(1000, final["completed"]!.GetValue<int>());
    }

    [Fact]
    public async Task Callbacks_fire_once_and_counts_stay_exact_through_kill_9_of_the_whole_data_path()
    {
        await EnsureAsync(workers: 2, dispatchers: 2);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("kb");
        await cluster.DeployAsync(canvas, "square", Square, concurrency: 10, token: token);
        await cluster.DeployAsync(canvas, "tally", Recorded(sink, "Batch!.Completed"), token: token);
        await cluster.DeployAsync(canvas, "success", Recorded(sink, "Batch!.Total"), token: token);
        var items = string.Join(",", Enumerable.Range(1, 800).Select(i =>
            $$$"""{"worker":"square","event":{"n":{{{i}}}}}"""));
        var created = (await cluster.JsonAsync(HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{canvas}/batches"),
            token, $$$"""
            {"events": [{{{items}}}], "onComplete": {"worker": "tally", "event": null},
             "onSuccess": {"worker": "success", "event": null}}
            """, expect: 202))!;
        var batch = created["batchId"]!.GetValue<Guid>();
        await cluster.EventuallyAsync(
            async () => (await cluster.JsonAsync(HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/batches/{batch}"), token))!,
            b => b["completed"]!.GetValue<int>() >= 200,
            TimeSpan.FromSeconds(60),
            "a quarter of the batch done");

        await cluster.KillAndRestartDataPathAsync();
        foreach (var extra in cluster.ExtraDispatchers.Where(d => !d.HasExited)) extra.Kill();
        await EnsureAsync(workers: 2, dispatchers: 2);

        var done = await FinishedAsync(canvas, batch, token);
        output.WriteLine($"after kill -9 of emitter, dispatchers and workers: {done.ToJsonString()}");
        Assert.Equal(800, done["total"]!.GetValue<int>());
        Assert.Equal(800, done["completed"]!.GetValue<int>());
        Assert.Equal(0, done["pending"]!.GetValue<int>());
        var calls = await cluster.EventuallyAsync(
            () => Task.FromResult(Callbacks(sink)),
            c => c.Count >= 2,
            TimeSpan.FromMinutes(1),
            "both callbacks");
        var callbackIds = new[] { done["onComplete"]!["eventId"]!.GetValue<Guid>(),
            done["onSuccess"]!["eventId"]!.GetValue<Guid>() };
        // A second run of either would show up within the pump's and the worker's next few passes.
        await Task.Delay(TimeSpan.FromSeconds(2));
        calls = Callbacks(sink);
        Assert.Equal(callbackIds.Order(), calls.Select(c => c.Id).Order());
        Assert.All(calls, c => Assert.Equal("800", c.Value));
    }
}
