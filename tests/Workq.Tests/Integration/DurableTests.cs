namespace Workq.Tests.Integration;

/// <summary>
/// Durable handlers (API.md "Durable handlers") on the real services, broker and database: steps that run once across
/// retries and resumes (counted at an HTTP sink), sleeps and waits that end the run and come back on time, signals,
/// cancels of every state, and what another canvas cannot do to them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DurableTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Posts <paramref name="what"/> and the event's id to the sink: an effect the test counts.</summary>
    private static string Effect(CallbackSink sink, string what) => $$"""
        using (var r = await Http.PostAsync("{{sink.Url}}",
            new System.Net.Http.StringContent("{{what}} " + Meta.Id))) r.EnsureSuccessStatusCode();
        """;

    private static int Count(CallbackSink sink, string what, Guid id) =>
        sink.Calls.Count(c => c == $"{what} {id}");

    private Uri Event(string canvas, Guid id, string path = "", int? wait = null) => cluster.ControlUrl(
        $"/v1/canvases/{canvas}/events/{id}{path}" + (wait is { } w ? $"?wait={w}" : ""));

    /// <summary>The event's status; a 404 (its 202's status not flushed yet) reads as an empty object.</summary>
    private async Task<JsonNode> StatusAsync(string canvas, Guid id, string token)
    {
        using var response = await cluster.SendAsync(HttpMethod.Get, Event(canvas, id), token);
        if (response.StatusCode == HttpStatusCode.NotFound) return new JsonObject { ["status"] = "unknown" };
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private Task<JsonNode> StatusBecomesAsync(string canvas, Guid id, string token, string status) =>
        cluster.EventuallyAsync(() => StatusAsync(canvas, id, token),
            s => s["status"]!.GetValue<string>() == status, Patience, $"event {id} {status}");

    private async Task<JsonNode?> SignalAsync(string canvas, Guid id, string name, string token, string body,
        int expect = 202) =>
        await cluster.JsonAsync(HttpMethod.Post, Event(canvas, id, $"/signals/{name}"), token, body, expect);

    private static string Text(JsonNode node, string name) => node[name]!.GetValue<string>();

    [Fact]
    public async Task An_order_workflow_charges_once_sleeps_waits_for_its_signal_and_notifies_once()
    {
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("durable");
        await cluster.DeployAsync(canvas, "order", $$"""
            var charge = await Step("charge", async () => { {{Effect(sink, "charge")}} return 42; });
            await Sleep(TimeSpan.FromSeconds(2));
            var shipment = await WaitFor("shipped", TimeSpan.FromMinutes(5));
            await Step("notify", async () => { {{Effect(sink, "notify")}} });
            return new { charge, carrier = shipment?["carrier"]?.GetValue<string>(), resume = Meta.Resume };
            """, token: token);
        var emittedAt = DateTimeOffset.UtcNow;
        var id = await cluster.EmitAsync(canvas, "order", "{}", token);

        var sleeping = await StatusBecomesAsync(canvas, id, token, "sleeping");
        var wakeAt = sleeping["runAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(wakeAt - emittedAt, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
        // Asleep, it holds no slot.
        await cluster.EventuallyAsync(() => cluster.WorkerAsync(canvas, "order"),
            w => w["stats"]!["sleeping"]!.GetValue<int>() == 1 && w["stats"]!["inFlight"]!.GetValue<int>() == 0,
            Patience, "one sleeping, none in flight");

        var waiting = await StatusBecomesAsync(canvas, id, token, "waiting");
        Assert.Equal("shipped", Text(waiting, "waitingFor"));
        // The resume started no earlier than the sleep's end.
        var resumed = await cluster.EventuallyAsync(() => cluster.TracesAsync(canvas, "order"),
            t => t.Any(x => x!["resume"]!.GetValue<int>() == 1), Patience, "the first resume's trace");
        var firstResume = resumed.Single(x => x!["resume"]!.GetValue<int>() == 1)!;
        Assert.True(firstResume["startedAt"]!.GetValue<DateTimeOffset>() >= wakeAt,
            $"resumed at {firstResume["startedAt"]}, before {wakeAt}");
        Assert.Equal("waiting", Text(firstResume, "status"));
        Assert.Equal([true, true, false],
            firstResume["steps"]!.AsArray().Select(s => s!["replayed"]!.GetValue<bool>()));
        Assert.Equal(1, (await cluster.WorkerAsync(canvas, "order"))["stats"]!["waiting"]!.GetValue<int>());

        // Another name is not what it waits for; the right one resumes it, once.
        await SignalAsync(canvas, id, "delivered", token, "{}", expect: 404);
        var signalled = await SignalAsync(canvas, id, "shipped", token, """{"carrier":"ups"}""");
        Assert.Equal("resumed", Text(signalled!, "state"));
        var done = (await cluster.JsonAsync(HttpMethod.Get, Event(canvas, id, wait: 30), token))!;
        Assert.Equal("completed", Text(done, "status"));
        Assert.Equal(42, done["result"]!["charge"]!.GetValue<int>());
        Assert.Equal("ups", done["result"]!["carrier"]!.GetValue<string>());
        Assert.True(done["result"]!["resume"]!.GetValue<int>() == 2,
            $"ended in resume {done["result"]!["resume"]}: "
            + $"{(await cluster.TracesAsync(canvas, "order")).ToJsonString()}{cluster.Logs()}");
        Assert.Equal((1, 1), (Count(sink, "charge", id), Count(sink, "notify", id)));
        await SignalAsync(canvas, id, "shipped", token, "{}", expect: 404);
    }

    [Fact]
    public async Task A_step_with_an_effect_runs_once_across_three_attempts()
    {
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("durable");
        await cluster.DeployAsync(canvas, "charge", $$"""
            await Step("charge", async () => { {{Effect(sink, "charge")}} });
            if (Meta.Attempt < 3) throw new InvalidOperationException($"attempt {Meta.Attempt} fails after the step");
            return Meta.Attempt;
            """, token: token);
        await cluster.JsonAsync(HttpMethod.Patch, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/charge"), token,
            """{"retry":{"maxAttempts":3,"backoffSeconds":[1,1]}}""");
        var id = await cluster.EmitAsync(canvas, "charge", "{}", token);

        var done = (await cluster.JsonAsync(HttpMethod.Get, Event(canvas, id, wait: 30), token))!;
        Assert.Equal(("completed", 3), (Text(done, "status"), done["attempts"]!.GetValue<int>()));
        Assert.Equal(1, Count(sink, "charge", id));
    }

    [Fact]
    public async Task An_early_signal_is_kept_for_the_wait_a_second_is_a_409_and_a_wait_times_out_to_null()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("durable");
        await cluster.DeployAsync(canvas, "gate", """
            await Sleep(TimeSpan.FromSeconds(1));
            var go = await WaitFor("go", TimeSpan.FromSeconds(2));
            return go ?? "timed out";
            """, token: token);
        var early = await cluster.EmitAsync(canvas, "gate", "{}", token);
        var late = await cluster.EmitAsync(canvas, "gate", "{}", token);

        await StatusBecomesAsync(canvas, early, token, "sleeping");
        Assert.Equal("kept", Text((await SignalAsync(canvas, early, "go", token, "[7]"))!, "state"));
        await SignalAsync(canvas, early, "go", token, "[8]", expect: 409);

        var earlyDone = (await cluster.JsonAsync(HttpMethod.Get, Event(canvas, early, wait: 30), token))!;
        Assert.Equal("[7]", earlyDone["result"]!.ToJsonString());
        var lateDone = (await cluster.JsonAsync(HttpMethod.Get, Event(canvas, late, wait: 30), token))!;
        Assert.Equal(("completed", "timed out"), (Text(lateDone, "status"), lateDone["result"]!.GetValue<string>()));
        // Final: nothing to signal.
        await SignalAsync(canvas, late, "go", token, "1", expect: 404);
    }

    [Fact]
    public async Task Another_canvas_can_neither_signal_nor_cancel_an_event_and_bad_requests_are_problems()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("durable");
        var (other, otherToken) = await cluster.CreateCanvasAsync("durable");
        await cluster.DeployAsync(canvas, "gate", """return await WaitFor("go", TimeSpan.FromMinutes(5));""",
            token: token);
        var id = await cluster.EmitAsync(canvas, "gate", "{}", token);
        await StatusBecomesAsync(canvas, id, token, "waiting");

        // Its own routes do not find it; the owner's routes refuse its token.
        await SignalAsync(other, id, "go", otherToken, "1", expect: 404);
        await cluster.JsonAsync(HttpMethod.Post, Event(other, id, "/cancel"), otherToken, expect: 404);
        await SignalAsync(canvas, id, "go", otherToken, "1", expect: 403);
        await cluster.JsonAsync(HttpMethod.Post, Event(canvas, id, "/cancel"), otherToken, expect: 403);
        Assert.Equal("waiting", Text(await StatusAsync(canvas, id, token), "status"));

        await SignalAsync(canvas, id, "bad name", token, "1", expect: 400);
        await SignalAsync(canvas, id, "go", token, "{not json", expect: 400);
        await SignalAsync(canvas, Guid.NewGuid(), "go", token, "1", expect: 404);
        using var huge = await cluster.SendAsync(HttpMethod.Post, Event(canvas, id, "/signals/go"), token,
            "\"" + new string('x', 300_000) + "\"");
        Assert.Equal(413, (int)huge.StatusCode);
        Assert.Equal("application/problem+json", huge.Content.Headers.ContentType?.MediaType);
        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/events/nope/cancel"),
            token, expect: 400);
        Assert.Equal("waiting", Text(await StatusAsync(canvas, id, token), "status"));
    }

    /// <summary>
    /// Emits to <paramref name="worker"/> and cancels the event once it runs; its id once it ended cancelled. The
    /// cluster's handler time-out (3 s) bounds the window: on a loaded machine it can end the run before the cancel
    /// reaches it. Such a try shows nothing about cancel, and another is made (three at most).
    /// </summary>
    private async Task<Guid> CancelRunningAsync(string canvas, string worker, string token, string by)
    {
        for (var attempt = 1; ; attempt++)
        {
            var id = await cluster.EmitAsync(canvas, worker, "{}", token);
            await StatusBecomesAsync(canvas, id, token, "running");
            using var cancel = await cluster.SendAsync(HttpMethod.Post, Event(canvas, id, "/cancel"), by);
            if (cancel.StatusCode == HttpStatusCode.Conflict && attempt < 3) continue;
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
            Assert.Equal("running", Text(JsonNode.Parse(await cancel.Content.ReadAsStringAsync())!, "status"));
            var done = (await cluster.JsonAsync(HttpMethod.Get, Event(canvas, id, wait: 30), token))!;
            if (Text(done, "status") == "timedOut" && attempt < 3) continue;
            Assert.Equal("cancelled", Text(done, "status"));
            return id;
        }
    }

    [Fact]
    public async Task Cancel_ends_a_queued_a_sleeping_and_a_running_event_and_a_final_one_is_a_409()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("durable");
        await cluster.DeployAsync(canvas, "nap", "await Sleep(TimeSpan.FromMinutes(10)); return 1;", token: token);
        await cluster.DeployAsync(canvas, "hold", """
            await Task.Delay(Timeout.Infinite, CancellationToken);
            return 1;
            """, token: token);
        await cluster.DeployAsync(canvas, "paused", "return 1;", token: token);
        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/paused/pause"),
            token);

        var queued = await cluster.EmitAsync(canvas, "paused", "{}", token);
        var answer = (await cluster.JsonAsync(HttpMethod.Post, Event(canvas, queued, "/cancel"), token, expect: 202))!;
        Assert.Equal((queued, "cancelled"), (answer["id"]!.GetValue<Guid>(), Text(answer, "status")));
        await StatusBecomesAsync(canvas, queued, token, "cancelled");

        var napping = await cluster.EmitAsync(canvas, "nap", "{}", token);
        await StatusBecomesAsync(canvas, napping, token, "sleeping");
        answer = (await cluster.JsonAsync(HttpMethod.Post, Event(canvas, napping, "/cancel"), token, expect: 202))!;
        Assert.Equal("cancelled", Text(answer, "status"));
        await StatusBecomesAsync(canvas, napping, token, "cancelled");
        Assert.Equal(0, (await cluster.WorkerAsync(canvas, "nap"))["stats"]!["sleeping"]!.GetValue<int>());

        var holding = await CancelRunningAsync(canvas, "hold", token, cluster.AdminToken);
        var trace = await cluster.TraceOfAsync(canvas, "hold", holding, Patience);
        Assert.Equal("cancelled", Text(trace, "status"));
        Assert.Contains("Cancelled by admin", trace["error"]!["message"]!.GetValue<string>());

        await cluster.JsonAsync(HttpMethod.Post, Event(canvas, holding, "/cancel"), token, expect: 409);
        await cluster.JsonAsync(HttpMethod.Post, Event(canvas, Guid.NewGuid(), "/cancel"), token, expect: 404);
    }
}
