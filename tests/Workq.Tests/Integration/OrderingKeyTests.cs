using Workq.Client;

namespace Workq.Tests.Integration;

/// <summary>
/// Ordering keys end to end (API.md "Ordering keys"): per key one at a time in emit order across instances, through
/// kill -9 and retries, while different keys run side by side; the handler's Emit and what a hostile canvas can do with
/// a key; the operators' paths (un-enqueue, purge, counts, delete) over the lanes; validation.
/// </summary>
[Collection(OrderingCollection.Name)]
[Trait(TestPhase.Trait, TestPhase.Background)]
public sealed class OrderingKeyTests(WorkqCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Posts "start|key|n|attempt" and "end|key|n|attempt" around a pause of {1} ms.</summary>
    private static string RecordCode(CallbackSink sink, int pauseMs) => $$"""
        var k = (string)Event!["k"]!;
        var n = (int)Event["n"]!;
        using (var r = await Http.PostAsync(
            "{{sink.Url}}", new StringContent($"start|{k}|{n}|{Meta.Attempt}"), CancellationToken)) { }
        await Task.Delay({{pauseMs}}, CancellationToken);
        using (var r = await Http.PostAsync(
            "{{sink.Url}}", new StringContent($"end|{k}|{n}|{Meta.Attempt}"), CancellationToken)) { }
        return n;
        """;

    private sealed record Mark(bool Start, string Key, int N, int Attempt);

    private static List<Mark> Marks(CallbackSink sink) => sink.Calls.Select(c => c.Split('|'))
        .Where(p => p.Length == 4 && p[0] is "start" or "end").Select(
            p => new Mark(p[0] == "start", p[1], int.Parse(p[2]), int.Parse(p[3]))).ToList();

    private async Task<Guid> EmitKeyedAsync(string canvas, string worker, string key, int n, string token)
    {
        using var response = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/{worker}/events?orderingKey={Uri.EscapeDataString(key)}"),
            token,
            $$"""{"k":"{{key}}","n":{{n}}}""");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 202, $"keyed emit answered {(int)response.StatusCode}: {text}");
        return text.As<EmitAccepted>().Id;
    }

    private async Task<IReadOnlyList<Guid>> EmitKeyedBatchAsync(
        string canvas,
        string worker,
        IEnumerable<(string Key, int N)> items,
        string token)
    {
        var body = new JsonArray([.. items.Select(i => (JsonNode)new JsonObject
        {
            ["worker"] = worker, ["orderingKey"] = i.Key, ["event"] = new JsonObject { ["k"] = i.Key, ["n"] = i.N },
        })]);
        var answer = await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
            token,
            body.ToJsonString(),
            expect: 202);
        return answer.As<EmitBatchAnswer>().Ids;
    }

    private async Task EnsureWorkersAsync(int count)
    {
        foreach (var dead in cluster.Workers.Where(w => w.HasExited).ToList()) cluster.Workers.Remove(dead);
        while (cluster.Workers.Count < count) await cluster.StartWorkerAsync();
    }

    /// <summary>
    /// Each key's runs, in the order they started, with the attempt; and whether any of them overlapped.
    /// </summary>
    private static void AssertOneAtATimeInOrder(List<Mark> marks, string key, int count)
    {
        var open = false;
        var next = 0;
        foreach (var mark in marks.Where(m => m.Key == key))
        {
            if (mark.Start)
            {
                Assert.False(open, $"key {key}: {mark.N} started while its predecessor ran");
                Assert.Equal(next, mark.N);
                open = true;
            }
            else
            {
                Assert.True(open && mark.N == next, $"key {key}: end of {mark.N} out of place");
                open = false;
                next++;
            }
        }
        Assert.Equal(count, next);
    }

    [Fact]
    public async Task Events_of_a_key_run_one_at_a_time_in_emit_order_while_keys_run_side_by_side()
    {
        await EnsureWorkersAsync(2);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("order");
        await cluster.DeployAsync(canvas, "w", RecordCode(sink, 20), concurrency: 8, token: token);
        string[] keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
        // Singles, key by key, then batches with every key interleaved.
        for (var n = 0; n < 3; n++)
            foreach (var key in keys) await EmitKeyedAsync(canvas, "w", key, n, token);
        for (var n = 3; n < 12; n += 3)
            await EmitKeyedBatchAsync(
                canvas,
                "w",
                Enumerable.Range(n, 3).SelectMany(i => keys.Select(k => (k, i))),
                token);

        await cluster.EventuallyAsync(
            () => Task.FromResult(Marks(sink).Count(m => !m.Start)),
            c => c >= keys.Length * 12,
            Patience,
            "every keyed event ran");
        var marks = Marks(sink);
        foreach (var key in keys) AssertOneAtATimeInOrder(marks, key, 12);

        // Different keys did run at the same time.
        var running = new HashSet<string>();
        var most = 0;
        foreach (var mark in marks)
        {
            if (mark.Start) running.Add(mark.Key);
            else running.Remove(mark.Key);
            most = Math.Max(most, running.Count);
        }
        output.WriteLine($"at most {most} keys ran at once");
        Assert.True(most > 1, "keys never ran side by side");
        // A worker's lanes count among its queues, and its first keyed event gave it its lanes.
        var view = await cluster.GetWorkerAsync(canvas, "w");
        Assert.Equal(0, view.Stats.Queued);
        var queues = await cluster.Rabbit.QueuesAsync(cluster.VirtualHost);
        Assert.Equal(8, queues.Count(q => q.StartsWith($"workq.worker.{canvas}.w.lane", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Killing_a_worker_instance_mid_key_keeps_every_keys_order_and_loses_nothing()
    {
        await EnsureWorkersAsync(2);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("orderkill");
        // Long enough runs (8 keys of 20, 300 ms each, 4 at once: 12 s) that the kill, after the search for the lanes'
        // instance, still cuts keys that are running.
        await cluster.DeployAsync(canvas, "w", RecordCode(sink, 300), concurrency: 4, token: token);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "w"),
            w => w.Stats.Consumers == 2,
            Patience,
            "two consumers");
        string[] keys = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];
        const int perKey = 20;
        var accepted = new List<Guid>();
        for (var n = 0; n < perKey; n += 5)
            accepted.AddRange(await EmitKeyedBatchAsync(
                canvas,
                "w",
                Enumerable.Range(n, 5).SelectMany(i => keys.Select(k => (k, i))),
                token));

        // Mid-key: some events of the keys ran, and one is running now.
        await cluster.EventuallyAsync(
            () => Task.FromResult(Marks(sink)),
            m => m.Count(x => !x.Start) >= 24 && m[^1].Start,
            Patience,
            "keys in flight");
        // The instance that is active on the lanes (single active consumer), so the kill cuts keys that are running.
        // The management API lists consumers a moment after they start: polled.
        var victim = await cluster.EventuallyAsync(async () =>
        {
            var owners = await cluster.Rabbit
                .ActiveConsumerConnectionsAsync(cluster.VirtualHost, $"workq.worker.{canvas}.w.lane");
            return cluster.Workers
                .FirstOrDefault(w => !w.HasExited && owners.Any(o => o.EndsWith($"-{w.Id}", StringComparison.Ordinal)));
        }, w => w is not null, Patience, "the lanes' active instance");
        victim!.Kill();
        var killedAt = sink.Calls.Count;
        await EnsureWorkersAsync(2);

        await cluster.EventuallyAsync(
            () => Task.FromResult(Marks(sink)),
            m => keys.All(k => m.Any(x => !x.Start && x.Key == k && x.N == perKey - 1)),
            TimeSpan.FromMinutes(2),
            "every key's last event ran");
        var marks = Marks(sink);
        output.WriteLine($"killed after {killedAt} marks; {marks.Count} in all");
        foreach (var key in keys)
        {
            // Per key the starts go 0, 1, 2, ...: a run cut by the kill may run again, next, and nothing after it runs
            // before it.
            var starts = marks.Where(m => m.Start && m.Key == key).Select(m => m.N).ToList();
            Assert.Equal(0, starts[0]);
            for (var i = 1; i < starts.Count; i++)
                Assert.True(
                    starts[i] == starts[i - 1] || starts[i] == starts[i - 1] + 1,
                    $"key {key} ran {starts[i]} after {starts[i - 1]}: {string.Join(",", starts)}");
            Assert.Equal(perKey - 1, starts[^1]);
        }
        Assert.Equal(keys.Length * perKey, marks.Where(m => !m.Start).Select(m => (m.Key, m.N)).Distinct().Count());
        // The kill gave events back: the broker delivered them again, counted.
        Assert.Contains(marks, m => m.Start && m.Attempt > 1);
    }

    [Fact]
    public async Task A_failing_keyed_event_holds_its_key_through_its_retries_while_other_keys_proceed()
    {
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("orderretry");
        // Event bad/0 fails twice, then succeeds on its third attempt.
        var code = $$"""
            var k = (string)Event!["k"]!;
            var n = (int)Event["n"]!;
            using (var r = await Http.PostAsync(
                "{{sink.Url}}", new StringContent($"start|{k}|{n}|{Meta.Attempt}"), CancellationToken)) { }
            if (k == "bad" && n == 0 && Meta.Attempt < 3) throw new InvalidOperationException("not yet");
            using (var r = await Http.PostAsync(
                "{{sink.Url}}", new StringContent($"end|{k}|{n}|{Meta.Attempt}"), CancellationToken)) { }
            return n;
            """;
        await cluster.DeployAsync(canvas, "w", code, concurrency: 4, token: token);
        await cluster.JsonAsync(
            HttpMethod.Patch,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w"),
            token,
            """{"retry":{"maxAttempts":3,"backoffSeconds":[1]}}""");
        await cluster.EventuallyAsync(
            () => cluster.WorkerAsync(canvas, "w"),
            w => w["retry"] is not null,
            Patience,
            "policy stored");

        await EmitKeyedAsync(canvas, "w", "bad", 0, token);
        await EmitKeyedAsync(canvas, "w", "bad", 1, token);
        for (var n = 0; n < 5; n++) await EmitKeyedAsync(canvas, "w", "good", n, token);

        await cluster.EventuallyAsync(
            () => Task.FromResult(Marks(sink)),
            m => m.Any(x => !x.Start && x.Key == "bad" && x.N == 1),
            Patience,
            "bad/1 ran");
        var marks = Marks(sink);
        var badStarts = marks.Where(m => m.Start && m.Key == "bad").Select(m => (m.N, m.Attempt)).ToList();
        Assert.Equal([(0, 1), (0, 2), (0, 3), (1, 1)], badStarts);
        // The good key did not wait for the bad one's retries.
        var badDone = marks.FindIndex(m => !m.Start && m.Key == "bad" && m.N == 0);
        var goodDone = marks.FindIndex(m => !m.Start && m.Key == "good" && m.N == 4);
        Assert.True(goodDone < badDone, "the good key waited for the bad key's retries");
        AssertOneAtATimeInOrder(marks, "good", 5);
    }

    [Fact]
    public async Task A_handler_emits_in_order_with_a_key_that_cannot_reach_another_canvas()
    {
        await using var sink = await CallbackSink.StartAsync();
        var (victim, victimToken) = await cluster.CreateCanvasAsync("ordervictim");
        var (hostile, hostileToken) = await cluster.CreateCanvasAsync("orderhostile");
        // The same worker name on both canvases: the victim's records "victim", the hostile's own "hostile".
        var recordAs = (string who) => $$"""
            using (var r = await Http.PostAsync(
                "{{sink.Url}}", new StringContent($"{{who}}|{Event}"), CancellationToken)) { }
            return null;
            """;
        await cluster.DeployAsync(victim, "t", recordAs("victim"), concurrency: 8, token: victimToken);
        await cluster.DeployAsync(hostile, "t", recordAs("hostile"), concurrency: 8, token: hostileToken);
        var emitter = $$"""
            foreach (var key in new[] { new string('k', 10_000), "", "a\u0001b", "a\nb" })
            {
                try { await Emit("t", "never", orderingKey: key); }
                catch (ArgumentException e) { using (var r = await Http.PostAsync(
                    "{{sink.Url}}", new StringContent($"refused|{e.Message}"), CancellationToken)) { } }
            }
            for (var n = 0; n < 10; n++) await Emit("t", n, orderingKey: "../{{victim}}/t");
            return null;
            """;
        await cluster.DeployAsync(hostile, "e", emitter, token: hostileToken);
        await cluster.EmitAsync(hostile, "e", "1", hostileToken);

        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Count(c => c.StartsWith("hostile|"))),
            c => c == 10,
            Patience,
            "the hostile canvas's own events ran");
        // A key that is too long or holds control characters is refused; a strange one is only a key of the emitting
        // canvas's worker.
        Assert.Equal(4, sink.Calls.Count(c => c.StartsWith("refused|") && c.Contains("orderingKey")));
        Assert.Equal(
            Enumerable.Range(0, 10).Select(n => $"hostile|{n}"),
            sink.Calls.Where(c => c.StartsWith("hostile|")));
        Assert.DoesNotContain(sink.Calls, c => c.StartsWith("victim|") || c.Contains("never"));
        Assert.Equal(0, (await cluster.GetWorkerAsync(victim, "t")).Stats.Queued);
        var queues = await cluster.Rabbit.QueuesAsync(cluster.VirtualHost);
        Assert.DoesNotContain(queues, q => q.StartsWith($"workq.worker.{victim}.t.lane", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Queued_counts_un_enqueue_purge_and_delete_cover_the_lanes()
    {
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("orderops");
        await cluster.DeployAsync(canvas, "w", RecordCode(sink, 0), concurrency: 2, token: token);
        var worker = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w");
        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/pause"), token);
        var ids = new List<Guid>();
        for (var n = 0; n < 6; n++) ids.Add(await EmitKeyedAsync(canvas, "w", n % 2 == 0 ? "x" : "y", n, token));
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "w"),
            w => w.Stats.Queued == 6,
            Patience,
            "six keyed events queued");

        // Un-enqueued by id: skipped when its turn comes, and its key goes on.
        using (var cancel = await cluster.SendAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/events/{ids[2]}"),
            token))
            Assert.Equal(202, (int)cancel.StatusCode);
        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/resume"), token);
        await cluster.EventuallyAsync(
            () => Task.FromResult(Marks(sink).Count(m => !m.Start)),
            c => c == 5,
            Patience,
            "the five others ran");
        Assert.Equal([0, 4], Marks(sink).Where(m => m.Start && m.Key == "x").Select(m => m.N));

        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/pause"), token);
        for (var n = 0; n < 4; n++) await EmitKeyedAsync(canvas, "w", $"p{n}", n, token);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "w"),
            w => w.Stats.Queued == 4,
            Patience,
            "four queued");
        var purged = await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/events"),
            token);
        Assert.Equal(4, purged.As<PurgeAnswer>().Purged);

        using (var delete = await cluster.SendAsync(HttpMethod.Delete, worker, token)) Assert.Equal(
            204,
            (int)delete.StatusCode);
        var queues = await cluster.Rabbit.QueuesAsync(cluster.VirtualHost);
        Assert.DoesNotContain(queues, q => q.StartsWith($"workq.worker.{canvas}.w", StringComparison.Ordinal));

        // Deployed again, the worker starts without lanes and gets them afresh with its next keyed event.
        await cluster.DeployAsync(canvas, "w", RecordCode(sink, 0), token: token);
        await EmitKeyedAsync(canvas, "w", "again", 0, token);
        await cluster.EventuallyAsync(
            () => Task.FromResult(Marks(sink)),
            m => m.Any(x => !x.Start && x.Key == "again"),
            Patience,
            "the redeployed worker ran its keyed event");
    }

    [Fact]
    public async Task Bad_ordering_keys_are_refused_with_a_problem_naming_the_field()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("orderbad");
        foreach (var key in new[] { "", new string('k', 129), "a%01b", "a%0Ab" })
        {
            using var response = await cluster.SendAsync(
                HttpMethod.Post,
                cluster.EmitUrl($"/v1/canvases/{canvas}/workers/w/events?orderingKey={key}"),
                token,
                "1");
            Assert.Equal(400, (int)response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("orderingKey", await response.Content.ReadAsStringAsync());
        }
        foreach (var item in new[] {
            """{"worker":"w","event":1,"orderingKey":5}""",
            """{"worker":"w","event":1,"orderingKey":""}""" })
        {
            using var batch = await cluster.SendAsync(
                HttpMethod.Post,
                cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
                token,
                $"[{{\"worker\":\"w\",\"event\":0}},{item}]");
            Assert.Equal(400, (int)batch.StatusCode);
            var text = await batch.Content.ReadAsStringAsync();
            Assert.Contains("Item 1", text);
            Assert.Contains("orderingKey", text);
        }
        // The longest key is fine, and so is one to a worker that does not exist yet: it is parked, and runs in its
        // lane once deployed.
        await using var sink = await CallbackSink.StartAsync();
        await EmitKeyedAsync(canvas, "later", new string('k', 128), 0, token);
        await EmitKeyedAsync(canvas, "later", new string('k', 128), 1, token);
        await cluster.DeployAsync(canvas, "later", RecordCode(sink, 0), token: token);
        await cluster.EventuallyAsync(
            () => Task.FromResult(Marks(sink).Count(m => !m.Start)),
            c => c == 2,
            Patience,
            "the parked keyed events ran");
        AssertOneAtATimeInOrder(Marks(sink), new string('k', 128), 2);
        var queues = await cluster.Rabbit.QueuesAsync(cluster.VirtualHost);
        Assert.Equal(8, queues.Count(q => q.StartsWith($"workq.worker.{canvas}.later.lane", StringComparison.Ordinal)));
    }
}
