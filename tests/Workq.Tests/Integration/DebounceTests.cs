using System.Diagnostics;

namespace Workq.Tests.Integration;

/// <summary>
/// Debounce (API.md "Debounce") on the real services, broker and database: trailing runs the last event a period after
/// the last emit, leading runs the first and drops the rest of its period, the cap holds under a steady stream, a
/// handler's emits debounce, idempotency keys apply first, and keys are per canvas; bad debounces are 400s.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DebounceTests(WorkqCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private Uri Emit(string canvas, string worker, string query) =>
        cluster.EmitUrl($"/v1/canvases/{canvas}/workers/{worker}/events?{query}");

    private async Task<Guid> EmitAsync(string canvas, string worker, string query, string body, string token,
        string? idempotencyKey = null)
    {
        using var response = await cluster.SendAsync(HttpMethod.Post, Emit(canvas, worker, query), token, body,
            idempotencyKey);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return Guid.Parse(JsonNode.Parse(text)!["id"]!.GetValue<string>());
    }

    private async Task<JsonNode> StatusAsync(string canvas, Guid id, string token, int wait = 0)
    {
        using var response = await cluster.SendAsync(HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}?wait={wait}"), token);
        return response.StatusCode == HttpStatusCode.NotFound
            ? new JsonObject { ["status"] = "unknown" }
            : JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private Task<JsonNode> CompletedAsync(string canvas, Guid id, string token) =>
        cluster.EventuallyAsync(() => StatusAsync(canvas, id, token, wait: 10),
            s => s["status"]!.GetValue<string>() == "completed", Patience, $"event {id} completed");

    [Fact]
    public async Task Trailing_emits_100_ms_apart_make_one_run_of_the_last_a_period_after_the_last_emit()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("db");
        await cluster.DeployAsync(canvas, "index", "return Event;", token: token);
        var ids = new List<Guid>();
        var runAts = new List<DateTimeOffset>();
        var clock = Stopwatch.StartNew();
        // The last emit was made between these two (this machine's clock, which the services share).
        var (beforeLast, afterLast) = (DateTimeOffset.MinValue, DateTimeOffset.MinValue);
        for (var i = 0; i < 50; i++)
        {
            beforeLast = DateTimeOffset.UtcNow;
            ids.Add(await EmitAsync(canvas, "index", "debounceKey=doc-17&debounceSeconds=1", $$"""{"n":{{i}}}""",
                token));
            afterLast = DateTimeOffset.UtcNow;
            if (i is 10 or 30)
            {
                // Scheduled, due a period after this emit: the time moves with every emit.
                var status = await cluster.EventuallyAsync(() => StatusAsync(canvas, ids[0], token),
                    s => s["status"]!.GetValue<string>() == "scheduled", Patience, "the run scheduled");
                runAts.Add(status["runAt"]!.GetValue<DateTimeOffset>());
            }
            var next = TimeSpan.FromMilliseconds(100 * (i + 1)) - clock.Elapsed;
            if (next > TimeSpan.Zero) await Task.Delay(next);
        }
        var done = await CompletedAsync(canvas, ids[0], token);
        var trace = await cluster.TraceOfAsync(canvas, "index", ids[0], Patience);
        var started = trace["startedAt"]!.GetValue<DateTimeOffset>();
        output.WriteLine($"50 emits over {clock.Elapsed.TotalSeconds:0.0} s; the run started " +
            $"{(started - afterLast).TotalMilliseconds:0} ms after the last emit's 202; status {done}");

        Assert.Single(ids.Distinct());
        Assert.True(runAts[1] > runAts[0], $"runAt did not move: {runAts[0]:O}, then {runAts[1]:O}");
        Assert.Equal(49, trace["event"]!["n"]!.GetValue<int>());
        Assert.Equal(49, done["result"]!["n"]!.GetValue<int>());
        Assert.Equal("doc-17", trace["debounce"]!["key"]!.GetValue<string>());
        Assert.Equal(50, trace["debounce"]!["absorbed"]!.GetValue<int>());
        Assert.Equal(50, done["debounce"]!["absorbed"]!.GetValue<int>());
        Assert.Equal("trailing", done["debounce"]!["mode"]!.GetValue<string>());
        // A period after the last emit: never before, and within a second of it, as a delayed emit.
        Assert.True(started >= beforeLast.AddSeconds(1), $"started {started:O}, before {beforeLast.AddSeconds(1):O}");
        Assert.True(started <= afterLast.AddSeconds(2), $"started {started:O}, after {afterLast.AddSeconds(2):O}");
        Assert.Equal(1, (await cluster.WorkerAsync(canvas, "index"))["stats"]!["processed"]!.GetValue<int>());
    }

    [Fact]
    public async Task Leading_runs_the_first_at_once_and_drops_the_rest_of_its_period()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("dl");
        await cluster.DeployAsync(canvas, "index", "return Event;", token: token);
        const string query = "debounceKey=doc-3&debounceSeconds=2&debounceMode=leading";
        var first = Stopwatch.StartNew();
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++) ids.Add(await EmitAsync(canvas, "index", query, $$"""{"n":{{i}}}""", token));
        var done = await CompletedAsync(canvas, ids[0], token);
        Assert.Single(ids.Distinct());
        Assert.Equal(0, done["result"]!["n"]!.GetValue<int>());
        Assert.Equal("leading", done["debounce"]!["mode"]!.GetValue<string>());
        Assert.Equal(5, done["debounce"]!["absorbed"]!.GetValue<int>());

        // Once the period is over, an emit is a new run; none before.
        var next = await cluster.EventuallyAsync(() => EmitAsync(canvas, "index", query, """{"n":99}""", token),
            id => id != ids[0], Patience, "a new run after the period");
        Assert.True(first.Elapsed >= TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(50),
            $"a new run {first.Elapsed.TotalMilliseconds:0} ms after the period began");
        Assert.Equal(99, (await CompletedAsync(canvas, next, token))["result"]!["n"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_cap_holds_a_trailing_run_under_a_steady_stream()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("dm");
        await cluster.DeployAsync(canvas, "index", "return Event;", token: token);
        const string query = "debounceKey=feed&debounceSeconds=1&debounceMaxSeconds=2";
        var ids = new List<Guid>();
        var clock = Stopwatch.StartNew();
        // An emit every 200 ms for 5 s: the period never passes quietly, so only the cap starts runs.
        for (var i = 0; clock.Elapsed < TimeSpan.FromSeconds(5); i++)
        {
            ids.Add(await EmitAsync(canvas, "index", query, $$"""{"n":{{i}}}""", token));
            var next = TimeSpan.FromMilliseconds(200 * (i + 1)) - clock.Elapsed;
            if (next > TimeSpan.Zero) await Task.Delay(next);
        }
        var runs = ids.Distinct().ToList();
        output.WriteLine($"{ids.Count} emits made {runs.Count} runs");
        Assert.InRange(runs.Count, 2, 4);
        foreach (var run in runs.SkipLast(1))
        {
            await CompletedAsync(canvas, run, token);
            var trace = await cluster.TraceOfAsync(canvas, "index", run, Patience);
            var heldFor = trace["startedAt"]!.GetValue<DateTimeOffset>()
                - trace["enqueuedAt"]!.GetValue<DateTimeOffset>();
            output.WriteLine($"run {run}: held {heldFor.TotalMilliseconds:0} ms, {trace["debounce"]}");
            // At the cap (2 s from its first emit), not before; about a second after it at most.
            Assert.InRange(heldFor.TotalMilliseconds, 2_000, 3_500);
            Assert.Equal(ids.Count(id => id == run), trace["debounce"]!["absorbed"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task A_handlers_emits_debounce_and_idempotency_keys_apply_first()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("dh");
        await cluster.DeployAsync(canvas, "index", "return Event;", token: token);
        await cluster.DeployAsync(canvas, "edit", """
            var ids = new HashSet<Guid>();
            for (var i = 0; i < 20; i++)
                ids.Add(await Emit("index", new { n = i }, debounce: ("page", TimeSpan.FromSeconds(1))));
            return ids.Single();
            """, token: token);
        var edit = await cluster.EmitAsync(canvas, "edit", "{}", token);
        var run = Guid.Parse((await CompletedAsync(canvas, edit, token))["result"]!.GetValue<string>());
        var done = await CompletedAsync(canvas, run, token);
        Assert.Equal(19, done["result"]!["n"]!.GetValue<int>());
        Assert.Equal(20, done["debounce"]!["absorbed"]!.GetValue<int>());

        // An idempotency key's repeat answers its first id and absorbs nothing; a new key absorbed answers the run.
        const string query = "debounceKey=k&debounceSeconds=2";
        var a = await EmitAsync(canvas, "index", query, """{"n":1}""", token, idempotencyKey: "a");
        var b = await EmitAsync(canvas, "index", query, """{"n":2}""", token, idempotencyKey: "b");
        var again = await EmitAsync(canvas, "index", query, """{"n":3}""", token, idempotencyKey: "b");
        Assert.Equal(a, b);
        Assert.Equal(a, again);
        var collapsed = await CompletedAsync(canvas, a, token);
        Assert.Equal(2, collapsed["debounce"]!["absorbed"]!.GetValue<int>());
        Assert.Equal(2, collapsed["result"]!["n"]!.GetValue<int>());
    }

    [Fact]
    public async Task Another_canvas_with_the_same_worker_and_key_has_its_own_run_and_cannot_reach_this_one()
    {
        var (mine, myToken) = await cluster.CreateCanvasAsync("dx");
        var (other, otherToken) = await cluster.CreateCanvasAsync("dy");
        await cluster.DeployAsync(mine, "index", "return Event;", token: myToken);
        await cluster.DeployAsync(other, "index", "return Event;", token: otherToken);
        const string query = "debounceKey=shared&debounceSeconds=1";
        var myRun = await EmitAsync(mine, "index", query, """{"who":"mine"}""", myToken);
        var otherRun = await EmitAsync(other, "index", query, """{"who":"other"}""", otherToken);
        Assert.NotEqual(myRun, otherRun);
        // The other canvas's token on this canvas's routes: refused, nothing absorbed.
        using (var refused = await cluster.SendAsync(HttpMethod.Post, Emit(mine, "index", query), otherToken,
            """{"who":"intruder"}"""))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var mineDone = await CompletedAsync(mine, myRun, myToken);
        var otherDone = await CompletedAsync(other, otherRun, otherToken);
        Assert.Equal("mine", mineDone["result"]!["who"]!.GetValue<string>());
        Assert.Equal(1, mineDone["debounce"]!["absorbed"]!.GetValue<int>());
        Assert.Equal("other", otherDone["result"]!["who"]!.GetValue<string>());
        // Its run's status is not the other canvas's to read.
        Assert.Equal("unknown", (await StatusAsync(other, myRun, otherToken))["status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("debounceSeconds=1", "debounceKey is missing")]
    [InlineData("debounceKey=k", "debounceSeconds is missing")]
    [InlineData("debounceKey=k&debounceSeconds=0", "debounceSeconds must be over 0")]
    [InlineData("debounceKey=k&debounceSeconds=86401", "debounceSeconds must be over 0")]
    [InlineData("debounceKey=k&debounceSeconds=soon", "debounceSeconds must be a number")]
    [InlineData("debounceKey=k&debounceSeconds=5&debounceMaxSeconds=4", "debounceMaxSeconds must be at least")]
    [InlineData("debounceKey=k&debounceSeconds=5&debounceMode=sideways", "debounceMode must be")]
    [InlineData("debounceKey=k&debounceSeconds=5&delaySeconds=3", "takes no delaySeconds or runAt")]
    [InlineData("debounceKey=%00k&debounceSeconds=5", "debounceKey")]
    public async Task A_bad_debounce_is_a_400_naming_it(string query, string detail)
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("dv");
        await cluster.DeployAsync(canvas, "index", "return Event;", token: token);
        using var response = await cluster.SendAsync(HttpMethod.Post, Emit(canvas, "index", query), token, "{}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, text);
    }

    [Fact]
    public async Task Batch_items_debounce_and_a_batchs_events_cannot()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("dt");
        await cluster.DeployAsync(canvas, "index", "return Event;", token: token);
        var accepted = await cluster.JsonAsync(HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
            token, """
            [{"worker":"index","event":{"n":1},"debounceKey":"d","debounceSeconds":1},
             {"worker":"index","event":{"n":2},"debounceKey":"d","debounceSeconds":1},
             {"worker":"index","event":{"n":3}}]
            """, expect: 202);
        var ids = accepted!["ids"]!.AsArray().Select(id => Guid.Parse(id!.GetValue<string>())).ToList();
        Assert.Equal(ids[0], ids[1]);
        Assert.NotEqual(ids[0], ids[2]);
        Assert.Equal(2, (await CompletedAsync(canvas, ids[0], token))["result"]!["n"]!.GetValue<int>());

        var bad = await cluster.JsonAsync(HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{canvas}/events"), token,
            """[{"worker":"index","event":1,"debounceKey":"d","debounceSeconds":"1"}]""", expect: 400);
        Assert.Contains("Item 0: \"debounceSeconds\" must be a number", bad!["detail"]!.GetValue<string>());
        var control = await cluster.JsonAsync(HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
            token, """[{"worker":"index","event":1,"debounceKey":"a\u0001b","debounceSeconds":1}]""", expect: 400);
        Assert.Contains("Item 0: debounceKey", control!["detail"]!.GetValue<string>());
        var member = await cluster.JsonAsync(HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{canvas}/batches"), token,
            """{"events":[{"worker":"index","event":1,"debounceKey":"d","debounceSeconds":1}]}""", expect: 400);
        Assert.Contains("a batch's events cannot be debounced", member!["detail"]!.GetValue<string>());
    }
}
