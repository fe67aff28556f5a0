namespace Workq.Tests.Integration;

/// <summary>
/// Priorities (API.md "Priorities") on the real services, broker and database: high events emitted behind a thousand
/// queued normal ones start among the first ten plus the concurrency, a low event aged past the aging time is served
/// as normal and a fresh one after every normal one; the priority shows in statuses, traces and the worker's queued
/// counts, survives a handler's delayed emit, and is per canvas; a bad priority is a 400 or the emit's exception.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PriorityTests(WorkqCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    // Each run reports "<priority>:<n>" to the sink, in the order they ran (concurrency 1).
    private static string Recorder(CallbackSink sink) => $$"""
        var label = Event!["p"]!.GetValue<string>() + ":" + Event["n"];
        using (var r = await Http.PostAsync("{{sink.Url}}", new StringContent(label), CancellationToken)) { }
        return null;
        """;

    private Task<JsonNode?> StateAsync(string canvas, string worker, string verb, string token) =>
        cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{worker}/{verb}"), token);

    private async Task<IReadOnlyList<Guid>> EmitAllAsync(string canvas, string token, string priority,
        IEnumerable<int> numbers)
    {
        var items = numbers.Select(n =>
            $$"""{"worker":"w","event":{"p":"{{priority}}","n":{{n}}},"priority":"{{priority}}"}""");
        var accepted = await cluster.JsonAsync(HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
            token, "[" + string.Join(",", items) + "]", expect: 202);
        return accepted!["ids"]!.AsArray().Select(id => Guid.Parse(id!.GetValue<string>())).ToList();
    }

    private async Task<JsonNode> StatusAsync(string canvas, Guid id, string token) =>
        (await cluster.JsonAsync(HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}?wait=10"),
            token))!;

    private Task<JsonNode> QueuedAsync(string canvas, string worker, string token, long high, long normal, long low) =>
        cluster.EventuallyAsync(
            async () => (await cluster.JsonAsync(HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{worker}"), token))!["stats"]!,
            stats => stats["queuedByPriority"] is { } by && by["high"]!.GetValue<long>() == high
                && by["normal"]!.GetValue<long>() == normal && by["low"]!.GetValue<long>() == low
                && stats["queued"]!.GetValue<long>() == high + normal + low,
            Patience, $"queued {high} high, {normal} normal, {low} low");

    [Fact]
    public async Task High_events_emitted_behind_a_thousand_queued_normal_ones_start_among_the_first_ten_plus_one()
    {
        await cluster.UseOneWorkerInstanceAsync();
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("pri");
        await cluster.DeployAsync(canvas, "w", Recorder(sink), concurrency: 1, token: token);
        await StateAsync(canvas, "w", "pause", token);
        await EmitAllAsync(canvas, token, "normal", Enumerable.Range(0, 500));
        await EmitAllAsync(canvas, token, "normal", Enumerable.Range(500, 500));
        var high = await EmitAllAsync(canvas, token, "high", Enumerable.Range(0, 10));
        await QueuedAsync(canvas, "w", token, high: 10, normal: 1000, low: 0);

        await StateAsync(canvas, "w", "resume", token);
        await cluster.EventuallyAsync(() => Task.FromResult(sink.Calls.Count), n => n >= 1010, Patience,
            "every event ran");

        var order = sink.Calls.ToList();
        var positions = order.Select((label, i) => (label, i)).Where(c => c.label.StartsWith("high:"))
            .Select(c => c.i).ToList();
        output.WriteLine($"the high events ran at positions {string.Join(", ", positions)} of {order.Count}");
        Assert.Equal(1010, order.Distinct().Count());
        Assert.Equal(10, positions.Count);
        // Up to the concurrency (1) normal events may start before them: the one delivered first at the resume.
        Assert.All(positions, p => Assert.InRange(p, 0, 10));

        var status = await StatusAsync(canvas, high[0], token);
        Assert.Equal("completed", status["status"]!.GetValue<string>());
        Assert.Equal("high", status["priority"]!.GetValue<string>());
        var traced = await EmitAllAsync(canvas, token, "high", [10]);
        var trace = await cluster.TraceOfAsync(canvas, "w", traced[0], Patience);
        Assert.Equal("high", trace["priority"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_low_event_waiting_past_the_aging_time_runs_before_the_normal_ones_and_a_fresh_one_after_them()
    {
        await cluster.UseOneWorkerInstanceAsync();
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("age");
        await cluster.DeployAsync(canvas, "w", Recorder(sink), concurrency: 1, token: token);
        await StateAsync(canvas, "w", "pause", token);
        var old = await EmitAllAsync(canvas, token, "low", [0]);
        var oldAt = (await StatusAsync(canvas, old[0], token))["enqueuedAt"]!.GetValue<DateTimeOffset>();
        await EmitAllAsync(canvas, token, "normal", Enumerable.Range(0, 20));
        // Making time pass, not waiting for something: the first low event must be older than the aging time.
        var aged = oldAt + WorkqCluster.PriorityAging + TimeSpan.FromMilliseconds(500) - DateTimeOffset.UtcNow;
        if (aged > TimeSpan.Zero) await Task.Delay(aged);
        var fresh = await EmitAllAsync(canvas, token, "low", [1]);
        await QueuedAsync(canvas, "w", token, high: 0, normal: 20, low: 2);

        await StateAsync(canvas, "w", "resume", token);
        await cluster.EventuallyAsync(() => Task.FromResult(sink.Calls.Count), n => n >= 22, Patience,
            "every event ran");

        var order = sink.Calls.ToList();
        var late = await StatusAsync(canvas, fresh[0], token);
        var waited = late["startedAt"]!.GetValue<DateTimeOffset>() - late["enqueuedAt"]!.GetValue<DateTimeOffset>();
        output.WriteLine($"{string.Join(" ", order)}; the second low waited {waited.TotalMilliseconds:0} ms");
        Assert.InRange(order.IndexOf("low:0"), 0, 1);
        // Fresh, it waits for every normal one; only once it has waited the aging time itself (a machine slow enough
        // to take that long over 20 runs) may it go before the normal ones not delivered yet.
        if (order[^1] != "low:1")
            Assert.True(waited >= WorkqCluster.PriorityAging, $"a fresh low event ran before normal ones: {waited}");
        Assert.Equal("low", (await StatusAsync(canvas, old[0], token))["priority"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_handlers_emits_and_delayed_emits_keep_their_priority_and_a_normal_event_says_normal()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("hpri");
        await cluster.DeployAsync(canvas, "sink", "return Event;", token: token);
        await cluster.DeployAsync(canvas, "fan", """
            var now = await Emit("sink", "high", priority: "high");
            var later = await Emit("sink", "low", delay: TimeSpan.FromSeconds(1), priority: "low");
            var plain = await Emit("sink", "normal");
            return new[] { now, later, plain };
            """, token: token);
        var fan = await cluster.EmitAsync(canvas, "fan", "{}", token);
        var done = await cluster.EventuallyAsync(() => StatusAsync(canvas, fan, token),
            s => s["status"]!.GetValue<string>() == "completed", Patience, "the fan-out completed");
        var ids = done["result"]!.AsArray().Select(id => Guid.Parse(id!.GetValue<string>())).ToList();

        string[] expected = ["high", "low", "normal"];
        for (var i = 0; i < 3; i++)
        {
            var status = await cluster.EventuallyAsync(() => StatusAsync(canvas, ids[i], token),
                s => s["status"]!.GetValue<string>() == "completed", Patience, $"the {expected[i]} child completed");
            Assert.Equal(expected[i], status["priority"]!.GetValue<string>());
            var trace = await cluster.TraceOfAsync(canvas, "sink", ids[i], Patience);
            Assert.Equal(expected[i], trace["priority"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_dead_lettered_high_event_is_redriven_as_high()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("rpri");
        await cluster.JsonAsync(HttpMethod.Put, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w"), token,
            """{"code": "throw new Exception(\"not yet\");", "retry": {"maxAttempts": 1}}""", expect: 201);
        var id = (await EmitAllAsync(canvas, token, "high", [0]))[0];
        var dead = await cluster.EventuallyAsync(() => StatusAsync(canvas, id, token),
            s => s["status"]!.GetValue<string>() == "deadLettered", Patience, "the event dead-lettered");
        Assert.Equal("high", dead["priority"]!.GetValue<string>());

        await cluster.DeployAsync(canvas, "w", "return Event;", token: token, expect: 200);
        await cluster.JsonAsync(HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters/redrive"), token);
        var done = await cluster.EventuallyAsync(() => StatusAsync(canvas, id, token),
            s => s["status"]!.GetValue<string>() == "completed", Patience, "the redriven event completed");
        Assert.Equal("high", done["priority"]!.GetValue<string>());
        var traces = await cluster.EventuallyAsync(() => cluster.TracesAsync(canvas, "w"),
            t => t.Any(x => x!["status"]!.GetValue<string>() == "completed"), Patience, "the redriven run's trace");
        Assert.Equal("high", traces.First(x => x!["status"]!.GetValue<string>() == "completed")!["priority"]!
            .GetValue<string>());
    }

    [Fact]
    public async Task A_bad_priority_is_a_400_or_the_emits_exception_naming_the_three()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("bpri");
        await cluster.DeployAsync(canvas, "w", "return 1;", token: token);
        foreach (var bad in new[] { "urgent", "HIGH", "high%00" })
        {
            using var single = await cluster.SendAsync(HttpMethod.Post,
                cluster.EmitUrl($"/v1/canvases/{canvas}/workers/w/events?priority={bad}"), token, "1");
            Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
            Assert.Equal("application/problem+json", single.Content.Headers.ContentType?.MediaType);
            Assert.Contains("priority must be 'high', 'normal' (the default) or 'low'",
                await single.Content.ReadAsStringAsync());
        }
        using var batch = await cluster.SendAsync(HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
            token, """[{"worker":"w","event":1},{"worker":"w","event":2,"priority":7}]""");
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        Assert.Contains("Item 1: \\\"priority\\\" must be", await batch.Content.ReadAsStringAsync());

        await cluster.DeployAsync(canvas, "bad", """await Emit("w", 1, priority: "urgent"); return 1;""",
            token: token);
        var id = await cluster.EmitAsync(canvas, "bad", "{}", token);
        var trace = await cluster.TraceOfAsync(canvas, "bad", id, Patience);
        Assert.Contains("priority must be 'high', 'normal' (the default) or 'low'",
            trace["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Another_canvas_high_events_wait_in_its_own_queues_and_cannot_be_sent_to_this_one()
    {
        var (mine, myToken) = await cluster.CreateCanvasAsync("own");
        var (other, otherToken) = await cluster.CreateCanvasAsync("oth");
        foreach (var (canvas, token) in new[] { (mine, myToken), (other, otherToken) })
        {
            await cluster.DeployAsync(canvas, "w", "return 1;", token: token);
            await StateAsync(canvas, "w", "pause", token);
        }
        await EmitAllAsync(mine, myToken, "normal", Enumerable.Range(0, 3));
        await EmitAllAsync(other, otherToken, "high", Enumerable.Range(0, 5));

        using var refused = await cluster.SendAsync(HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{mine}/workers/w/events?priority=high"), otherToken, "1");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        await QueuedAsync(mine, "w", myToken, high: 0, normal: 3, low: 0);
        await QueuedAsync(other, "w", otherToken, high: 5, normal: 0, low: 0);
    }
}
