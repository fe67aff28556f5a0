using System.Globalization;

namespace Workq.Tests.Integration;

/// <summary>
/// Batches (API.md "Batches") on the real services, broker and database: create, add, close, the counts, the callbacks
/// (once, onSuccess only when every member completed), the list, and what another canvas cannot do to them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BatchTests(WorkqCluster cluster)
{
    private const string Square = """
        var n = Event!["n"]!.GetValue<int>();
        if (n < 0) throw new InvalidOperationException($"negative: {n}");
        return n * n;
        """;

    private Uri Batches(string canvas, string path = "") => cluster.EmitUrl($"/v1/canvases/{canvas}/batches{path}");

    private Uri Batch(string canvas, Guid id, int? wait = null) => cluster.ControlUrl(
        $"/v1/canvases/{canvas}/batches/{id}" +
            (wait is null ? "" : "?wait=" + wait.Value.ToString(CultureInfo.InvariantCulture)));

    private async Task<(string Canvas, string Token)> CanvasWithWorkersAsync()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("batch");
        await cluster.DeployAsync(canvas, "square", Square, token: token);
        await cluster.DeployAsync(canvas, "report", "return Event;", token: token);
        await cluster.DeployAsync(canvas, "publish", "return Event;", token: token);
        return (canvas, token);
    }

    private static string Items(params int[] numbers) =>
        "[" + string.Join(",", numbers.Select(n => $$$"""{"worker":"square","event":{"n":{{{n}}}}}""")) + "]";

    private async Task<(Guid Batch, Guid[] Ids)> CreateAsync(string canvas, string token, string body)
    {
        var created = await cluster.JsonAsync(HttpMethod.Post, Batches(canvas), token, body, expect: 202);
        return (created!["batchId"]!.GetValue<Guid>(),
            created["ids"]!.AsArray().Select(id => id!.GetValue<Guid>()).ToArray());
    }

    private async Task<JsonNode> FinishedAsync(string canvas, Guid batch, string token)
    {
        var answer = (await cluster.JsonAsync(HttpMethod.Get, Batch(canvas, batch, wait: 30), token))!;
        Assert.True(answer["state"]!.GetValue<string>() == "completed", $"not finished within the wait: {answer}");
        return answer;
    }

    private async Task<HttpStatusCode> EventStatusCodeAsync(string canvas, Guid id, string token)
    {
        using var response = await cluster.SendAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}"),
            token);
        return response.StatusCode;
    }

    private async Task<JsonNode> EventFinishedAsync(string canvas, Guid id, string token) =>
        (await cluster.JsonAsync(HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}?wait=30"),
            token))!;

    private static int Count(JsonNode batch, string name) => batch[name]!.GetValue<int>();

    [Fact]
    public async Task OnComplete_fires_once_with_the_counts_and_onSuccess_not_when_a_member_failed()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        var (batch, ids) = await CreateAsync(canvas, token, $$$"""
            {"events": {{{Items(1, 2, 3, 4, -1)}}},
             "onComplete": {"worker": "report", "event": {"job": 7}},
             "onSuccess": {"worker": "publish", "event": {"job": 7}}
            }
            """);
        Assert.Equal(5, ids.Distinct().Count());

        var done = await FinishedAsync(canvas, batch, token);
        Assert.Equal(batch, done["id"]!.GetValue<Guid>());
        Assert.Equal(5, Count(done, "total"));
        Assert.Equal(0, Count(done, "pending"));
        Assert.Equal(4, Count(done, "completed"));
        Assert.Equal(1, Count(done, "failed"));
        Assert.Equal(0, Count(done, "timedOut") + Count(done, "cancelled") + Count(done, "deadLettered"));
        Assert.NotNull(done["closedAt"]);
        Assert.NotNull(done["finishedAt"]);
        Assert.Equal("report", done["onComplete"]!["worker"]!.GetValue<string>());
        var onComplete = done["onComplete"]!["eventId"]!.GetValue<Guid>();
        var onSuccess = done["onSuccess"]!["eventId"]!.GetValue<Guid>();

        // Every member had ended (a final status) before the callback was emitted.
        foreach (var id in ids)
            Assert.Contains(
                (await EventFinishedAsync(canvas, id, token))["status"]!.GetValue<string>(),
                new[] { "completed", "failed" });
        var callback = await EventFinishedAsync(canvas, onComplete, token);
        Assert.Equal("completed", callback["status"]!.GetValue<string>());
        Assert.Equal(7, callback["result"]!["job"]!.GetValue<int>());
        // Both callbacks are stored in the same transaction: with onComplete run, onSuccess would be there too.
        Assert.Equal(HttpStatusCode.NotFound, await EventStatusCodeAsync(canvas, onSuccess, token));
        Assert.Empty(await cluster.TracesAsync(canvas, "publish"));
        // Traces are written in batches, a moment after the run.
        var reports = await cluster.EventuallyAsync(() => cluster.TracesAsync(canvas, "report"), t => t.Count > 0,
            TimeSpan.FromSeconds(30), "the callback's trace");
        Assert.Equal(onComplete, Assert.Single(reports)!["eventId"]!.GetValue<Guid>());
    }

    [Fact]
    public async Task OnSuccess_fires_when_every_member_completed()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        var (batch, _) = await CreateAsync(canvas, token, $$$"""
            {"events": {{{Items(5, 6)}}}, "onSuccess": {"worker": "publish", "event": "all good"}}
            """);
        var done = await FinishedAsync(canvas, batch, token);
        Assert.Equal(2, Count(done, "completed"));
        Assert.Null(done["onComplete"]);
        var callback = await EventFinishedAsync(canvas, done["onSuccess"]!["eventId"]!.GetValue<Guid>(), token);
        Assert.Equal("completed", callback["status"]!.GetValue<string>());
        Assert.Equal("all good", callback["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_open_batch_waits_for_its_close_then_counts_what_was_added()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        var (batch, first) = await CreateAsync(canvas, token, $$$"""
            {"events": {{{Items(1, 2)}}}, "open": true, "onComplete": {"worker": "report", "event": null}}
            """);
        foreach (var id in first) await EventFinishedAsync(canvas, id, token);
        var open = (await cluster.JsonAsync(HttpMethod.Get, Batch(canvas, batch), token))!;
        Assert.Equal("open", open["state"]!.GetValue<string>());
        Assert.Null(open["closedAt"]);
        var onComplete = open["onComplete"]!["eventId"]!.GetValue<Guid>();
        // Its members all ended, but an open batch never fires.
        Assert.Equal(HttpStatusCode.NotFound, await EventStatusCodeAsync(canvas, onComplete, token));

        var added = await cluster.JsonAsync(HttpMethod.Post, Batches(canvas, $"/{batch}/events"), token, Items(3, -4),
            expect: 202);
        Assert.Equal(2, added!["ids"]!.AsArray().Count);
        var closed = await cluster.JsonAsync(HttpMethod.Post, Batches(canvas, $"/{batch}/close"), token, expect: 202);
        Assert.Equal(batch, closed!["batchId"]!.GetValue<Guid>());
        // Closing twice changes nothing.
        await cluster.JsonAsync(HttpMethod.Post, Batches(canvas, $"/{batch}/close"), token, expect: 202);

        var done = await FinishedAsync(canvas, batch, token);
        Assert.Equal(4, Count(done, "total"));
        Assert.Equal(3, Count(done, "completed"));
        Assert.Equal(1, Count(done, "failed"));
        Assert.Equal("completed", (await EventFinishedAsync(canvas, onComplete, token))["status"]!.GetValue<string>());

        // A closed batch takes no more events.
        using var late = await cluster.SendAsync(HttpMethod.Post, Batches(canvas, $"/{batch}/events"), token,
            Items(9));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("application/problem+json", late.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_repeated_idempotency_key_answers_with_the_first_batch()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        var body = $$$"""{"events": {{{Items(1, 2, 3)}}}, "idempotencyKey": "job-7"}""";
        var first = await CreateAsync(canvas, token, body);
        var again = await CreateAsync(canvas, token, body);
        Assert.Equal(first.Batch, again.Batch);
        Assert.Equal(first.Ids, again.Ids);
        var done = await FinishedAsync(canvas, first.Batch, token);
        Assert.Equal(3, Count(done, "total"));
        Assert.Equal(3, Count(done, "completed"));
    }

    [Fact]
    public async Task An_empty_closed_batch_finishes_at_once_and_both_callbacks_fire()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        var (batch, ids) = await CreateAsync(canvas, token, """
            {"events": [], "onComplete": {"worker": "report", "event": 1},
             "onSuccess": {"worker": "publish", "event": 2}}
            """);
        Assert.Empty(ids);
        var done = await FinishedAsync(canvas, batch, token);
        Assert.Equal(0, Count(done, "total"));
        Assert.Equal(1, (await EventFinishedAsync(canvas, done["onComplete"]!["eventId"]!.GetValue<Guid>(), token))
            ["result"]!.GetValue<int>());
        Assert.Equal(2, (await EventFinishedAsync(canvas, done["onSuccess"]!["eventId"]!.GetValue<Guid>(), token))
            ["result"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_dead_lettered_member_and_an_un_enqueued_delayed_one_end_in_their_batch()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        await cluster.DeployAsync(canvas, "fragile", "throw new InvalidOperationException(\"no\");", token: token);
        await cluster.JsonAsync(HttpMethod.Patch, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/fragile"), token,
            """{"retry":{"maxAttempts":1,"backoffSeconds":[]}}""");
        // The policy reaches the worker instances through the control plane; a run before it would simply fail.
        await cluster.EventuallyAsync(
            () => cluster.WorkerAsync(canvas, "fragile"),
            w => w["retry"] is not null,
            TimeSpan.FromSeconds(10),
            "the retry policy");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var (batch, ids) = await CreateAsync(canvas, token, """
            {"events": [{"worker": "fragile", "event": 1},
                        {"worker": "square", "event": {"n": 2}, "delaySeconds": 600},
                        {"worker": "square", "event": {"n": 3}}],
             "onComplete": {"worker": "report", "event": "done"}}
            """);
        await EventFinishedAsync(canvas, ids[2], token);
        await cluster.JsonAsync(HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/square/events/{ids[1]}"), token, expect: 202);

        var done = await FinishedAsync(canvas, batch, token);
        Assert.Equal(3, Count(done, "total"));
        Assert.Equal(1, Count(done, "completed"));
        Assert.Equal(1, Count(done, "cancelled"));
        Assert.Equal(1, Count(done, "deadLettered") + Count(done, "failed"));
        Assert.Equal("completed", (await EventFinishedAsync(canvas, done["onComplete"]!["eventId"]!.GetValue<Guid>(),
            token))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_cancel_ends_queued_and_delayed_members_and_fires_onComplete_with_the_counts()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        await cluster.DeployAsync(canvas, "held", "return 1;", token: token);
        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/held/pause"),
            token);
        var (batch, ids) = await CreateAsync(canvas, token, """
            {"events": [{"worker": "square", "event": {"n": 1}},
                        {"worker": "held", "event": 1}, {"worker": "held", "event": 2},
                        {"worker": "square", "event": {"n": 2}, "delaySeconds": 600}],
             "onComplete": {"worker": "report", "event": "after cancel"},
             "onSuccess": {"worker": "publish", "event": "never"}}
            """);
        await EventFinishedAsync(canvas, ids[0], token);

        var cancelled = (await cluster.JsonAsync(HttpMethod.Delete, Batch(canvas, batch), token))!;
        // Nothing was running: the batch completes with the cancel.
        Assert.Equal("completed", cancelled["state"]!.GetValue<string>());
        Assert.NotNull(cancelled["cancelledAt"]);
        Assert.Equal(4, Count(cancelled, "total"));
        Assert.Equal(1, Count(cancelled, "completed"));
        Assert.Equal(3, Count(cancelled, "cancelled"));
        Assert.Equal(0, Count(cancelled, "pending"));
        foreach (var id in ids[1..])
            Assert.Equal("cancelled", (await EventFinishedAsync(canvas, id, token))["status"]!.GetValue<string>());
        var onComplete = await EventFinishedAsync(canvas, cancelled["onComplete"]!["eventId"]!.GetValue<Guid>(), token);
        Assert.Equal("after cancel", onComplete["result"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound,
            await EventStatusCodeAsync(canvas, cancelled["onSuccess"]!["eventId"]!.GetValue<Guid>(), token));

        // Resumed, the worker skips the cancelled events; the batch's counts do not move.
        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/held/resume"),
            token);
        await cluster.EventuallyAsync(() => cluster.TracesAsync(canvas, "held"), t => t.Count == 2,
            TimeSpan.FromSeconds(30), "the skipped events' traces");
        var after = (await cluster.JsonAsync(HttpMethod.Get, Batch(canvas, batch), token))!;
        Assert.Equal(3, Count(after, "cancelled"));
        Assert.Equal(1, Count(after, "completed"));
        using var again = await cluster.SendAsync(HttpMethod.Delete, Batch(canvas, batch), token);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task The_list_pages_newest_first_and_filters_by_state()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        var open = (await CreateAsync(canvas, token, """{"events": [], "open": true}""")).Batch;
        var first = (await CreateAsync(canvas, token, $$$"""{"events": {{{Items(1)}}}}""")).Batch;
        var second = (await CreateAsync(canvas, token, $$$"""{"events": {{{Items(2)}}}}""")).Batch;
        await FinishedAsync(canvas, first, token);
        await FinishedAsync(canvas, second, token);

        using var page = await cluster.SendAsync(HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/batches?limit=2"), token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var items = JsonNode.Parse(await page.Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal([second, first], items.Select(b => b!["id"]!.GetValue<Guid>()));
        var cursor = page.Headers.GetValues("X-Next-Cursor").Single();
        var rest = (await cluster.JsonAsync(HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/batches?limit=2&cursor={cursor}"), token))!.AsArray();
        Assert.Equal(open, Assert.Single(rest)!["id"]!.GetValue<Guid>());

        var opened = (await cluster.JsonAsync(HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/batches?state=open"), token))!.AsArray();
        Assert.Equal(open, Assert.Single(opened)!["id"]!.GetValue<Guid>());
        var completed = (await cluster.JsonAsync(HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/batches?state=completed"), token))!.AsArray();
        Assert.Equal(2, completed.Count);
    }

    [Fact]
    public async Task A_handler_fans_out_with_EmitBatch_and_the_callback_reduces_its_results()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        await cluster.DeployAsync(canvas, "split", """
            var n = Event!["n"]!.GetValue<int>();
            return await EmitBatch(
                Enumerable.Range(1, n).Select(i => ("square", (object?)new { n = i })),
                onComplete: ("sum", new { job = "squares" }));
            """, token: token);
        await cluster.DeployAsync(canvas, "sum", """
            var sum = 0;
            var statuses = new List<string>();
            await foreach (var r in Batch!.Results()) { sum += r.Result!.GetValue<int>(); statuses.Add(r.Status); }
            return new { total = Batch.Total, completed = Batch.Completed, failed = Batch.Failed, sum,
                allCompleted = statuses.All(s => s == "completed"), job = Event!["job"]!.GetValue<string>(),
                meta = Meta.BatchId };
            """, token: token);
        var split = await cluster.EmitAsync(canvas, "split", """{"n": 450}""", token);
        var splitRun = await EventFinishedAsync(canvas, split, token);
        Assert.True(splitRun["status"]!.GetValue<string>() == "completed", splitRun.ToJsonString());
        var batch = splitRun["result"]!.GetValue<Guid>();

        var done = await FinishedAsync(canvas, batch, token);
        Assert.Equal(450, Count(done, "total"));
        Assert.Equal(450, Count(done, "completed"));
        var callback = await EventFinishedAsync(canvas, done["onComplete"]!["eventId"]!.GetValue<Guid>(), token);
        Assert.True(callback["status"]!.GetValue<string>() == "completed", callback.ToJsonString());
        var reduced = callback["result"]!;
        // 1² + 2² + ... + 450², every member read once through Batch.Results().
        Assert.Equal(450 * 451 * 901 / 6, reduced["sum"]!.GetValue<int>());
        Assert.Equal(450, reduced["total"]!.GetValue<int>());
        Assert.Equal(450, reduced["completed"]!.GetValue<int>());
        Assert.Equal(0, reduced["failed"]!.GetValue<int>());
        Assert.True(reduced["allCompleted"]!.GetValue<bool>());
        Assert.Equal("squares", reduced["job"]!.GetValue<string>());
        // The callback is not a member of the batch it reports on.
        Assert.Null(reduced["meta"]);
    }

    [Fact]
    public async Task A_member_adds_to_its_batch_and_the_batch_waits_for_the_leaves()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        await cluster.DeployAsync(canvas, "tree", """
            var level = Event!["level"]!.GetValue<int>();
            if (level < 2)
            {
                await Emit("tree", new { level = level + 1 }, inBatch: true);
                await Emit("tree", new { level = level + 1 }, inBatch: true);
            }
            else await Task.Delay(300, CancellationToken);
            return Meta.BatchId;
            """, token: token);
        var (batch, ids) = await CreateAsync(canvas, token, """
            {"events": [{"worker": "tree", "event": {"level": 0}}], "onComplete": {"worker": "report", "event": 1}}
            """);
        Assert.Equal(batch, (await EventFinishedAsync(canvas, ids[0], token))["result"]!.GetValue<Guid>());

        var done = await FinishedAsync(canvas, batch, token);
        // 1 + 2 + 4: the root, its children and their children, each counted once it ended.
        Assert.True(Count(done, "total") == 7, $"{done}\n{await cluster.TracesAsync(canvas, "tree")}");
        Assert.Equal(7, Count(done, "completed"));
        // Traces are written in batches, a moment after the runs.
        var traces = await cluster.EventuallyAsync(() => cluster.TracesAsync(canvas, "tree"), t => t.Count == 7,
            TimeSpan.FromSeconds(30), "the seven runs' traces");
        // The callback came after the last leaf finished.
        var lastLeaf = traces.Max(t => t!["finishedAt"]!.GetValue<DateTimeOffset>());
        var callback = await EventFinishedAsync(canvas, done["onComplete"]!["eventId"]!.GetValue<Guid>(), token);
        Assert.True(callback["startedAt"]!.GetValue<DateTimeOffset>() >= lastLeaf,
            $"the callback started at {callback["startedAt"]}, before the last leaf ended at {lastLeaf}");

        // Outside a batch, inBatch is refused, naming why.
        await cluster.DeployAsync(canvas, "loner", """
            try { await Emit("report", 1, inBatch: true); return "emitted"; }
            catch (ArgumentException e) { return e.Message; }
            """, token: token);
        var loner = await EventFinishedAsync(canvas, await cluster.EmitAsync(canvas, "loner", "1", token), token);
        Assert.Contains("belongs to no batch", loner["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_handler_that_emits_then_throws_under_retries_emits_each_child_once()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        await cluster.DeployAsync(canvas, "fanout", """
            var ids = new List<Guid>();
            for (var i = 0; i < 3; i++) ids.Add(await Emit("report", new { i }));
            Log(string.Join(",", ids));
            throw new InvalidOperationException($"attempt {Meta.Attempt} fails after its emits");
            """, token: token);
        await cluster.JsonAsync(HttpMethod.Patch, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/fanout"), token,
            """{"retry":{"maxAttempts":3,"backoffSeconds":[1,1]}}""");
        await cluster.EventuallyAsync(
            () => cluster.WorkerAsync(canvas, "fanout"),
            w => w["retry"] is not null,
            TimeSpan.FromSeconds(10),
            "the retry policy");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var parent = await cluster.EmitAsync(canvas, "fanout", "1", token);

        var final = await EventFinishedAsync(canvas, parent, token);
        Assert.Equal("deadLettered", final["status"]!.GetValue<string>());
        Assert.Equal(3, final["attempts"]!.GetValue<int>());
        // Every attempt emitted the same three ids, and three runs came of them, not nine.
        var attempts = await cluster.EventuallyAsync(() => cluster.TracesAsync(canvas, "fanout"), t => t.Count == 3,
            TimeSpan.FromSeconds(30), "three attempts' traces");
        var emitted = attempts.Select(t => t!["logs"]![0]!.GetValue<string>()).Distinct().ToList();
        Assert.Single(emitted);
        var reports = await cluster.EventuallyAsync(() => cluster.TracesAsync(canvas, "report"), t => t.Count >= 3,
            TimeSpan.FromSeconds(30), "the children's runs");
        Assert.Equal(emitted[0].Split(',').Order(),
            reports.Select(t => t!["eventId"]!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task Handler_code_of_another_canvas_reaches_neither_a_batch_nor_an_emit_key_of_this_one()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        var (other, otherToken) = await CanvasWithWorkersAsync();
        // The same code on both canvases: an emit under a fixed idempotency key, and a batch whose callback lists
        // every result it can read.
        const string Keyed = """
            var id = await Emit("report", Meta.Canvas, idempotencyKey: "shared-key");
            return await EmitBatch(new[] { ("square", (object?)new { n = 2 }), ("square", (object?)new { n = 3 }) },
                onComplete: ("list", id.ToString()));
            """;
        const string List = """
            var ids = new List<string>();
            await foreach (var r in Batch!.Results()) ids.Add(r.Id.ToString());
            return new { keyed = Event!.GetValue<string>(), ids };
            """;
        foreach (var (c, t) in new[] { (canvas, token), (other, otherToken) })
        {
            await cluster.DeployAsync(c, "keyed", Keyed, token: t);
            await cluster.DeployAsync(c, "list", List, token: t);
        }
        var mine = await EventFinishedAsync(canvas, await cluster.EmitAsync(canvas, "keyed", "1", token), token);
        var theirs = await EventFinishedAsync(other, await cluster.EmitAsync(other, "keyed", "1", otherToken),
            otherToken);
        var (myBatch, theirBatch) = (mine["result"]!.GetValue<Guid>(), theirs["result"]!.GetValue<Guid>());
        Assert.NotEqual(myBatch, theirBatch);

        var myList = (await EventFinishedAsync(canvas,
            (await FinishedAsync(canvas, myBatch, token))["onComplete"]!["eventId"]!.GetValue<Guid>(), token))
            ["result"]!;
        var theirList = (await EventFinishedAsync(other,
            (await FinishedAsync(other, theirBatch, otherToken))["onComplete"]!["eventId"]!.GetValue<Guid>(),
            otherToken))["result"]!;
        // Each canvas's key is its own: two events, each run in its canvas with its canvas's value.
        var (myKeyed, theirKeyed) = (myList["keyed"]!.GetValue<Guid>(), theirList["keyed"]!.GetValue<Guid>());
        Assert.NotEqual(myKeyed, theirKeyed);
        Assert.Equal(canvas, (await EventFinishedAsync(canvas, myKeyed, token))["result"]!.GetValue<string>());
        Assert.Equal(other, (await EventFinishedAsync(other, theirKeyed, otherToken))["result"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, await EventStatusCodeAsync(other, myKeyed, otherToken));
        // Each callback read its own batch's two members, and nothing of the other's.
        var myIds = myList["ids"]!.AsArray().Select(i => i!.GetValue<string>()).ToList();
        var theirIds = theirList["ids"]!.AsArray().Select(i => i!.GetValue<string>()).ToList();
        Assert.Equal(2, myIds.Count);
        Assert.Equal(2, theirIds.Count);
        Assert.Empty(myIds.Intersect(theirIds));
        foreach (var id in theirIds)
            Assert.Equal(HttpStatusCode.NotFound, await EventStatusCodeAsync(canvas, Guid.Parse(id), token));
    }

    [Fact]
    public async Task Bad_requests_are_problems_naming_what_is_wrong()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        var big = new string('x', 262_145);
        var cases = new (HttpMethod Method, Uri Url, string? Body, HttpStatusCode Status, string Names)[]
        {
            (HttpMethod.Post, Batches(canvas), "[]", HttpStatusCode.BadRequest, "JSON object"),
            (HttpMethod.Post, Batches(canvas), "{}", HttpStatusCode.BadRequest, "is missing"),
            (HttpMethod.Post, Batches(canvas), """{"events": 3}""", HttpStatusCode.BadRequest, "must be an array"),
            (HttpMethod.Post, Batches(canvas), """{"events": [], "onComplete": {"worker": "no such!"}}""",
                HttpStatusCode.BadRequest, "onComplete"),
            (HttpMethod.Post, Batches(canvas), """{"events": [], "open": "yes"}""", HttpStatusCode.BadRequest,
                "must be true or false"),
            (HttpMethod.Post, Batches(canvas), "{\"events\": " + Items(Enumerable.Range(0, 1001).ToArray()) + "}",
                HttpStatusCode.BadRequest, "at most 1000"),
            (HttpMethod.Post, Batches(canvas),
                $$$"""{"events": [], "onSuccess": {"worker": "report", "event": "{{{big}}}"}}""",
                HttpStatusCode.RequestEntityTooLarge, "onSuccess"),
            (HttpMethod.Post, Batches(canvas), "{\"events\": [\0]}", HttpStatusCode.BadRequest, "not valid JSON"),
            (HttpMethod.Post, Batches(canvas, "/not-an-id/events"), Items(1), HttpStatusCode.BadRequest, "batch id"),
            (HttpMethod.Post, Batches(canvas, $"/{Guid.NewGuid()}/events"), Items(1), HttpStatusCode.NotFound,
                "No batch"),
            (HttpMethod.Post, Batches(canvas, $"/{Guid.NewGuid()}/close"), null, HttpStatusCode.NotFound, "No batch"),
            (HttpMethod.Get, Batch(canvas, Guid.NewGuid()), null, HttpStatusCode.NotFound, "No batch"),
            (HttpMethod.Delete, Batch(canvas, Guid.NewGuid()), null, HttpStatusCode.NotFound, "No batch"),
            (HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/batches/x"), null, HttpStatusCode.BadRequest,
                "batch id"),
            (HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/batches/{Guid.NewGuid()}?wait=61"), null,
                HttpStatusCode.BadRequest, "whole number of seconds"),
            (HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/batches?state=done"), null,
                HttpStatusCode.BadRequest, "open, running or completed"),
        };
        foreach (var (method, url, body, status, names) in cases)
        {
            using var response = await cluster.SendAsync(method, url, token, body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{method} {url}: {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(text.Contains(names, StringComparison.Ordinal), $"{method} {url}: {text}");
        }
    }

    [Fact]
    public async Task Another_canvas_cannot_read_add_to_or_close_a_batch()
    {
        var (canvas, token) = await CanvasWithWorkersAsync();
        var (other, otherToken) = await CanvasWithWorkersAsync();
        var (batch, _) = await CreateAsync(canvas, token, """{"events": [], "open": true}""");

        // Its token on this canvas's routes: refused as every canvas route is.
        foreach (var (method, url, body) in new (HttpMethod, Uri, string?)[]
        {
            (HttpMethod.Get, Batch(canvas, batch), null),
            (HttpMethod.Post, Batches(canvas, $"/{batch}/events"), Items(1)),
            (HttpMethod.Post, Batches(canvas, $"/{batch}/close"), null),
            (HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/batches"), null),
            (HttpMethod.Delete, Batch(canvas, batch), null),
        })
        {
            using var response = await cluster.SendAsync(method, url, otherToken, body);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        // The id on its own canvas's routes: no such batch there.
        foreach (var (method, url, body) in new (HttpMethod, Uri, string?)[]
        {
            (HttpMethod.Get, Batch(other, batch), null),
            (HttpMethod.Post, Batches(other, $"/{batch}/events"), Items(1)),
            (HttpMethod.Post, Batches(other, $"/{batch}/close"), null),
            (HttpMethod.Delete, Batch(other, batch), null),
        })
        {
            using var response = await cluster.SendAsync(method, url, otherToken, body);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        Assert.Empty((await cluster.JsonAsync(HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{other}/batches"), otherToken))!.AsArray());
        // Still open and empty: nothing the other canvas did reached it.
        var mine = (await cluster.JsonAsync(HttpMethod.Get, Batch(canvas, batch), token))!;
        Assert.Equal("open", mine["state"]!.GetValue<string>());
        Assert.Equal(0, Count(mine, "total"));
    }
}
