namespace Workq.Tests.Integration;

/// <summary>
/// Issue 25's input rules end to end: every text a tenant gives is stored (U+0000 as U+2400, a lone surrogate as
/// U+FFFD) and found by search; ambiguous input is refused; a handler's emits are held to WORKQ_MAX_EVENT_BYTES; a
/// run's result, error and logs to WORKQ_MAX_TRACE_BYTES; and the worker service's memory does not grow with the
/// tenants' values.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TenantInputTests(WorkqCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const int MaxEventBytes = 262_144, MaxTraceBytes = 65_536;

    private async Task<JsonNode> StatusAsync(string canvas, Guid id, string token) =>
        (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}?wait=20"),
            token))!;

    [Fact]
    public async Task Nul_and_lone_surrogates_in_every_text_the_api_stores_are_kept_by_the_rule_and_found_by_search()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        // The code holds a NUL in a comment (it compiles), and throws and logs text with NUL and a lone surrogate.
        var code = """
            Log("log \u0000 " + (char)0xD800);
            throw new InvalidOperationException("nul \u0000 lone " + (char)0xD800 + " end");
            """ + "\n// a \0 b";
        var deployed = await cluster.JsonAsync(
            HttpMethod.Put,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/fails"),
            token,
            new JsonObject { ["code"] = code, ["retry"] = new JsonObject { ["maxAttempts"] = 1 } }
                .ToJsonString(),
            expect: 201);
        Assert.Equal(1, deployed.As<Workq.Client.Worker>().Version);
        Assert.EndsWith("// a \u2400 b", (await cluster.WorkerAsync(canvas, "fails"))["code"]!.GetValue<string>());

        var id = await cluster.EmitAsync(canvas, "fails", """{"payload": "p\u0000q\ud800"}""", token);
        var status = await StatusAsync(canvas, id, token);
        Assert.Equal("deadLettered", status["status"]!.GetValue<string>());
        Assert.Contains("InvalidOperationException: nul \u2400 lone \ufffd end", status["error"]!.GetValue<string>());

        // The trace keeps the text exactly, as JSON escapes it (a lone surrogate has no UTF-8: U+FFFD).
        var trace = await cluster.TraceOfAsync(canvas, "fails", id, Patience);
        Assert.Equal("nul \0 lone \ufffd end", trace["error"]!["message"]!.GetValue<string>());
        Assert.Equal("log \0 \ufffd", trace["logs"]![0]!.GetValue<string>());
        Assert.Equal("p\0q\ufffd", trace["event"]!["payload"]!.GetValue<string>());

        var letters = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/fails/dead-letters");
        var listed = await cluster.EventuallyAsync(
            async () => (await cluster.JsonAsync(HttpMethod.Get, letters, token))!.AsArray(),
            l => l.Count == 1,
            Patience,
            "the dead letter");
        var letter = listed[0]!;
        Assert.Contains("nul \u2400 lone \ufffd end", letter["reason"]!.GetValue<string>());
        Assert.Equal("p\0q\ufffd", letter["event"]!["payload"]!.GetValue<string>());
        // A search holding NUL is searched by the same rule, so it finds the NUL; so does the stand-in itself.
        foreach (var q in (string[])["%00%20lone", "nul%20%E2%90%80", "lone%20%EF%BF%BD"])
            Assert.Single((await cluster.JsonAsync(HttpMethod.Get, new Uri(letters + "?q=" + q), token))!.AsArray());
        Assert.Empty((await cluster.JsonAsync(HttpMethod.Get, new Uri(letters + "?q=%00%00"), token))!.AsArray());

        var blocked = await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/fails/block"),
            cluster.AdminToken,
            """{"reason": "why \u0000 \ud800"}""");
        Assert.Equal("why \u2400 \ufffd", blocked!["blockedReason"]!.GetValue<string>());

        // Idempotency keys are kept by the rule too: one holding NUL is the same key however often it is given, and so
        // is its stand-in.
        var batch = cluster.EmitUrl($"/v1/canvases/{canvas}/events");
        async Task<Guid> EmitWithKeyAsync(string key) =>
            (await cluster.JsonAsync(
                HttpMethod.Post,
                batch,
                token,
                $$"""[{"worker": "later", "event": 1, "idempotencyKey": "{{key}}"}]""",
                expect: 202))!
            ["ids"]![0]!.GetValue<Guid>();
        var first = await EmitWithKeyAsync("k\\u0000\\ud800");
        Assert.Equal(first, await EmitWithKeyAsync("k\\u0000\\ud800"));
        Assert.Equal(first, await EmitWithKeyAsync("k\\u2400\\ufffd"));
    }

    [Fact]
    public async Task A_repeated_single_valued_parameter_or_field_is_a_400_naming_it()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "w", "return 1;", token: token);
        foreach (var (method, url, body, says) in new[]
                 {
                     (HttpMethod.Post, cluster.EmitUrl(
                         $"/v1/canvases/{canvas}/events"), """[{"worker": "w", "event": 1, "worker": "x"}]""",
                         "\"worker\" is given twice"),
                     (HttpMethod.Put, cluster.ControlUrl(
                         $"/v1/canvases/{canvas}/workers/w"), """{"code": "return 1;", "code": "return 2;"}""",
                         "Duplicate property 'code'"),
                     (HttpMethod.Patch, cluster.ControlUrl(
                         $"/v1/canvases/{canvas}/workers/w"), """{"concurrency": 1, "concurrency": 2}""",
                         "Duplicate property 'concurrency'"),
                     (HttpMethod.Post, cluster.ControlUrl(
                         $"/v1/canvases/{canvas}/workers/w/block"), """{"reason": "a", "reason": "b"}""",
                         "Duplicate property 'reason'"),
                 })
        {
            using var response = await cluster.SendAsync(method, url, cluster.AdminToken, body);
            var refusal = await response.Content.ReadAsStringAsync();
            Assert.True(
                response.StatusCode == HttpStatusCode.BadRequest,
                $"{method} {url}: {(int)response.StatusCode} {refusal}");
            Assert.Contains(says, refusal.As<Problem>().Detail);
        }

        foreach (var (url, name) in new[]
                 {
                     (cluster.EmitUrl(
                         $"/v1/canvases/{canvas}/workers/w/events?orderingKey=a&orderingKey=b"), "orderingKey"),
                     (cluster.EmitUrl(
                         $"/v1/canvases/{canvas}/workers/w/events?delaySeconds=1&delaySeconds=1"), "delaySeconds"),
                     (cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters?limit=1&limit=2"), "limit"),
                     (cluster.ControlUrl(
                         $"/v1/canvases/{canvas}/events/{Guid.CreateVersion7()}?wait=1&wait=0"), "wait"),
                     (cluster.ControlUrl($"/v1/canvases/{canvas}/metrics?step=60&step=3600"), "step"),
                 })
        {
            var method = url.Port == cluster.Emitter.Port ? HttpMethod.Post : HttpMethod.Get;
            using var response = await cluster.SendAsync(method, url, token, method == HttpMethod.Post ? "1" : null);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(
                response.StatusCode == HttpStatusCode.BadRequest,
                $"{method} {url}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains($"\"{name}\" is given 2 times", body.As<Problem>().Detail);
        }

        // Two header lines (HttpClient would join them into one value): by hand.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync("127.0.0.1", cluster.Emitter.Port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII
            .GetBytes($"POST /v1/canvases/{canvas}/workers/w/events HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                $"Authorization: Bearer {token}\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n" +
                "Content-Length: 1\r\nConnection: close\r\n\r\n1"));
        var answer = await new StreamReader(stream).ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 400", answer);
        Assert.Contains("Idempotency-Key is given 2 times", answer);
    }

    [Fact]
    public async Task A_handlers_emit_at_WORKQ_MAX_EVENT_BYTES_is_sent_and_one_byte_over_throws_naming_it()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "emits", """
            var n = Event!["n"]!.GetValue<int>();
            try { return "sent " + await Emit("sink", new string('x', n)); }
            catch (ArgumentException e) { return e.Message; }
            """, token: token);
        await cluster.DeployAsync(canvas, "sink", "return Event!.GetValue<string>().Length;", token: token);

        // A JSON string of n characters is n + 2 bytes.
        var atLimit = await StatusAsync(
            canvas,
            await cluster.EmitAsync(canvas, "emits", $$"""{"n": {{MaxEventBytes - 2}}}""", token),
            token);
        var sent = atLimit["result"]!.GetValue<string>();
        Assert.StartsWith("sent ", sent);
        var child = await StatusAsync(canvas, Guid.Parse(sent[5..]), token);
        Assert.Equal(MaxEventBytes - 2, child["result"]!.GetValue<int>());

        foreach (var over in new[] { MaxEventBytes - 1, 10 * 1024 * 1024 })
        {
            var refused = await StatusAsync(
                canvas,
                await cluster.EmitAsync(canvas, "emits", $$"""{"n": {{over}}}""", token),
                token);
            Assert.Equal("completed", refused["status"]!.GetValue<string>());
            Assert.Contains(
                $"over the limit of {MaxEventBytes} bytes (WORKQ_MAX_EVENT_BYTES)",
                refused["result"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Results_errors_and_logs_are_kept_up_to_WORKQ_MAX_TRACE_BYTES_and_past_it_cut_marked_and_named()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "big", BigValues, token: token);
        async Task<(JsonNode Trace, JsonNode Status)> RunAsync(string kind, int n)
        {
            var id = await cluster.EmitAsync(canvas, "big", $$"""{"kind": "{{kind}}", "n": {{n}}}""", token);
            var status = await StatusAsync(canvas, id, token);
            return (await cluster.TraceOfAsync(canvas, "big", id, Patience), status);
        }

        // Just within: a result of 65,536 bytes of JSON (with the trace's one log line of 2 bytes, which it leaves room
        // for).
        var (whole, wholeStatus) = await RunAsync("result", MaxTraceBytes - 2 - 2);
        Assert.Equal(MaxTraceBytes - 4, whole["result"]!.GetValue<string>().Length);
        Assert.Null(whole["truncated"]);
        Assert.Equal(MaxTraceBytes - 4, wholeStatus["result"]!.GetValue<string>().Length);

        var (result, resultStatus) = await RunAsync("result", 2_000_000);
        Assert.Equal(["result"], result["truncated"]!.AsArray().Select(f => f!.GetValue<string>()));
        var kept = result["result"]!.GetValue<string>();
        Assert.StartsWith("\"rrrr", kept);
        Assert.EndsWith($"… [truncated at WORKQ_MAX_TRACE_BYTES ({MaxTraceBytes} bytes)]", kept);
        Assert.InRange(Encoding.UTF8.GetByteCount(kept), MaxTraceBytes - 200, MaxTraceBytes);
        Assert.Equal(kept, resultStatus["result"]!.GetValue<string>());

        var (error, errorStatus) = await RunAsync("throw", 2_000_000);
        Assert.Equal(["error"], error["truncated"]!.AsArray().Select(f => f!.GetValue<string>()));
        var thrown = error.As<Workq.Client.Trace>().Error!;
        Assert.Equal("Exception", thrown.Type);
        Assert.EndsWith("bytes)]", thrown.Message);
        Assert.InRange(thrown.Message.Length, MaxTraceBytes - 200, MaxTraceBytes);
        var statusError = errorStatus["error"]!.GetValue<string>();
        Assert.Equal(2_000, statusError.Length);
        Assert.EndsWith("… [truncated at 2000 characters]", statusError);

        var (logs, _) = await RunAsync("log", 0);
        Assert.Equal(["logs"], logs["truncated"]!.AsArray().Select(f => f!.GetValue<string>()));
        var lines = logs["logs"]!.AsArray().Select(l => l!.GetValue<string>()).ToList();
        Assert.StartsWith("[truncated at WORKQ_MAX_TRACE_BYTES", lines[^1]);
        Assert.InRange(lines.Sum(l => l.Length), MaxTraceBytes - 200, MaxTraceBytes);
    }

    /// <summary>
    /// Returns, throws or logs as much as the event says: <c>{"kind": "result" | "throw" | "log" | "all", "n":
    /// chars}</c>.
    /// </summary>
    private const string BigValues = """
        var kind = Event!["kind"]!.GetValue<string>();
        var n = Event!["n"]!.GetValue<int>();
        Log("go");
        if (kind is "log" or "all") for (var i = 0; i < 100; i++) Log(new string('l', 1_999));
        if (kind is "all")
        {
            try { await Emit(Meta.Worker + "-sink", new string('x', 10 * 1024 * 1024)); } catch (ArgumentException) { }
        }
        if (kind is "throw" or "all") throw new Exception(new string('e', n));
        return kind == "log" ? null : new string('r', n);
        """;

    [Fact]
    public async Task The_worker_services_memory_stays_flat_however_big_the_tenants_values()
    {
        await cluster.UseOneWorkerInstanceAsync();
        var worker = cluster.Workers.Single(w => !w.HasExited);
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "big", BigValues, concurrency: 4, token: token);
        async Task RunAsync(int events, int n)
        {
            var items = Enumerable.Range(0, events)
                .Select(i => ("big", $$"""{"kind": "{{(i % 2 == 0 ? "all" : "result")}}", "n": {{n}}}"""));
            var ids = await cluster.EmitBatchAsync(canvas, items, token);
            foreach (var id in ids) await StatusAsync(canvas, id, token);
        }

        // Warm: the same code and paths with small values, so that what is measured next is only what the values cost.
        await RunAsync(20, 1_000);
        var before = worker.Sample().RssBytes;
        // A 10 MB emit, a 2 MB exception message, 200 KB of logs and 2 MB results, 40 times over.
        await RunAsync(40, 2_000_000);
        var after = worker.Sample().RssBytes;
        output.WriteLine(
            $"worker RSS: {before / 1048576.0:0.0} MB before, "
            + $"{after / 1048576.0:0.0} MB after 40 runs with huge values");
        Assert.True(
            after - before < 48L * 1024 * 1024,
            $"the worker service grew from {before / 1048576.0:0.0} to {after / 1048576.0:0.0} MB");
    }
}
