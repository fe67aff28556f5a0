using Workq.Cli;

namespace Workq.UnitTests.Client;

/// <summary>
/// <c>workq events cancel|signal</c> and the sleeping and waiting statuses and counts in the CLI's output, against
/// scripted answers in the shapes the durable handlers' server contract promises.
/// </summary>
public sealed class DurableCliContractTests
{
    private static readonly Guid Id = Guid.Parse("0b8e2d1c-7a55-4c7e-9d0a-6f1f3c2b4a11");

    private static async Task<(int Code, string Out, string Err, ScriptedHandler Handler)> RunAsync(
        Func<HttpRequestMessage, string, HttpResponseMessage> answer,
        string? input,
        params string[] args)
    {
        var handler = new ScriptedHandler(answer);
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var stdin = new StringReader(input ?? "");
        var code = await WorkqCli.RunAsync(
            [.. args, "--url", "http://control.test", "--token", "tok"],
            output,
            error,
            _ => null,
            handler,
            stdin);
        return (code, output.ToString(), error.ToString(), handler);
    }

    private static HttpResponseMessage Accepted(string json) => ScriptedHandler.Json(HttpStatusCode.Accepted, json);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Events_cancel_posts_the_cancel_route_and_prints_the_status_it_answered()
    {
        var cancelled = await RunAsync(
            (_, _) => Accepted($$"""{"id":"{{Id}}","status":"cancelled"}"""),
            null,
            "events",
            "cancel",
            "shop",
            Id.ToString());
        Assert.Equal((0, $"event {Id}: cancelled", ""), (cancelled.Code, cancelled.Out.Trim(), cancelled.Err));
        Assert.Equal(
            (HttpMethod.Post, $"/v1/canvases/shop/events/{Id}/cancel", ""),
            Assert.Single(cancelled.Handler.Requests));

        var running = await RunAsync(
            (_, _) => Accepted($$"""{"id":"{{Id}}","status":"running"}"""),
            null,
            "events",
            "cancel",
            "shop",
            Id.ToString());
        Assert.Equal(
            $"event {Id}: running; its handler was asked to stop, and it ends cancelled when it returns",
            running.Out.Trim());

        var json = await RunAsync(
            (_, _) => Accepted($$"""{"id":"{{Id}}","status":"running"}"""),
            null,
            "events",
            "cancel",
            "shop",
            Id.ToString(),
            "--json");
        Assert.Equal("running", JsonNode.Parse(json.Out)!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Events_cancel_of_a_finished_event_exits_1_with_the_problem_on_one_line()
    {
        var final = await RunAsync(
            (_, _) => ScriptedHandler.Problem(
                HttpStatusCode.Conflict,
                "Conflict",
                "Event already finished: completed.",
                null),
            null,
            "events",
            "cancel",
            "shop",
            Id.ToString());
        Assert.Equal((1, "", "workq: 409 Conflict: Event already finished: completed."), (final.Code, final.Out,
            final.Err.Trim()));

        var badId = await RunAsync((_, _) => Accepted("{}"), null, "events", "cancel", "shop", "nope");
        Assert.Equal((2, "workq: 'nope' is not an event id (a GUID)"), (badId.Code, badId.Err.Trim()));
        Assert.Empty(badId.Handler.Requests);
    }

    private static HttpResponseMessage SignalAnswer(HttpRequestMessage request, string state) =>
        Accepted(new JsonObject
        {
            ["id"] = Id.ToString(),
            ["signal"] = Uri.UnescapeDataString(request.RequestUri!.AbsolutePath.Split('/')[^1]),
            ["state"] = state,
        }.ToJsonString());

    [Fact]
    public async Task Events_signal_sends_the_json_argument_stdin_or_null_and_prints_the_state()
    {
        var resumed = await RunAsync(
            (request, _) => SignalAnswer(request, "resumed"),
            null,
            "events",
            "signal",
            "shop",
            Id.ToString(),
            "go",
            """{"ok":true}""");
        Assert.Equal((0, $"event {Id}: signal go resumed it"), (resumed.Code, resumed.Out.Trim()));
        Assert.Equal(
            (HttpMethod.Post, $"/v1/canvases/shop/events/{Id}/signals/go", """{"ok":true}"""),
            Assert.Single(resumed.Handler.Requests));

        var fromStdin = await RunAsync(
            (request, _) => SignalAnswer(request, "kept"),
            "{\"n\": [1, 2]}\n",
            "events",
            "signal",
            "shop",
            Id.ToString(),
            "order:paid",
            "-");
        Assert.Equal(
            (0, $"event {Id}: signal order:paid kept for its next WaitFor(\"order:paid\")"),
            (fromStdin.Code, fromStdin.Out.Trim()));
        Assert.Equal("""{"n":[1,2]}""", Assert.Single(fromStdin.Handler.Requests).Body);

        var none = await RunAsync(
            (request, _) => SignalAnswer(request, "kept"),
            null,
            "events",
            "signal",
            "shop",
            Id.ToString(),
            "go",
            "--json");
        Assert.Equal("null", Assert.Single(none.Handler.Requests).Body);
        var answer = JsonNode.Parse(none.Out)!;
        Assert.Equal(("go", "kept"), (answer["signal"]!.GetValue<string>(), answer["state"]!.GetValue<string>()));

        var emptyStdin = await RunAsync(
            (request, _) => SignalAnswer(request, "kept"),
            "",
            "events",
            "signal",
            "shop",
            Id.ToString(),
            "go",
            "-");
        Assert.Equal("null", Assert.Single(emptyStdin.Handler.Requests).Body);
    }

    [Fact]
    public async Task Events_signal_refuses_bad_json_and_names_no_url_can_carry_before_any_request()
    {
        foreach (var (args, input, message) in new (string[], string?, string)[]
        {
            (["go", "{"], null, "JSON is not valid JSON"),
            (["go", "-"], "{oops", "standard input is not valid JSON"),
            ([".."], null, "'..' cannot be a signal's name"),
            (["."], null, "'.' cannot be a signal's name"),
        })
        {
            var refused = await RunAsync(
                (_, _) => Accepted("{}"),
                input,
                ["events", "signal", "shop", Id.ToString(), .. args]);
            Assert.True(refused.Code == 2, refused.Err);
            Assert.StartsWith("workq: ", Assert.Single(Lines(refused.Err)));
            Assert.Contains(message, refused.Err);
            Assert.Empty(refused.Handler.Requests);
        }

        var taken = await RunAsync(
            (_, _) => ScriptedHandler.Problem(
                HttpStatusCode.Conflict,
                "Conflict",
                "Signal 'go' is already pending.",
                null),
            null,
            "events",
            "signal",
            "shop",
            Id.ToString(),
            "go",
            "1");
        Assert.Equal((1, "workq: 409 Conflict: Signal 'go' is already pending."), (taken.Code, taken.Err.Trim()));
    }

    [Fact]
    public async Task Event_says_what_a_sleeping_or_waiting_event_waits_for_and_until_when()
    {
        static string Status(string status, string runAt, string? waitingFor) => new JsonObject
        {
            ["id"] = Id.ToString(),
            ["worker"] = "order",
            ["status"] = status,
            ["attempts"] = 1,
            ["enqueuedAt"] = "2026-11-23T10:00:00Z",
            ["runAt"] = runAt,
            ["startedAt"] = "2026-11-23T10:00:01Z",
            ["finishedAt"] = null,
            ["result"] = null,
            ["error"] = null,
            ["waitingFor"] = waitingFor,
        }.ToJsonString();

        var waiting = await RunAsync(
            (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, Status("waiting", "2026-11-23T10:05:00Z", "go")),
            null,
            "event",
            "shop",
            Id.ToString());
        var lines = Lines(waiting.Out);
        Assert.Matches(@"^EVENT\s+WORKER\s+STATUS\s+ATTEMPTS\s+ENQUEUED\s+STARTED\s+FINISHED\s+RESULT$", lines[0]);
        Assert.Matches($@"^{Id}\s+order\s+waiting\s+1\s", lines[1]);
        Assert.Equal("waiting for signal go until 2026-11-23 10:05:00Z (then its WaitFor times out)", lines[2]);

        var sleeping = await RunAsync(
            (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, Status("sleeping", "2026-11-23T11:00:00Z", null)),
            null,
            "event",
            "shop",
            Id.ToString());
        Assert.Equal("sleeping: wakes at 2026-11-23 11:00:00Z", Lines(sleeping.Out)[2]);

        var json = await RunAsync(
            (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, Status("waiting", "2026-11-23T10:05:00Z", "go")),
            null,
            "event",
            "shop",
            Id.ToString(),
            "--json");
        Assert.Equal("go", JsonNode.Parse(json.Out)!["waitingFor"]!.GetValue<string>());
    }

    [Fact]
    public async Task Workers_and_worker_show_the_sleeping_and_waiting_counts()
    {
        const string worker = """
            {"canvas":"shop","name":"order","version":1,"state":"running","blockedReason":null,"concurrency":10,
             "retry":null,"code":"return 1;",
             "stats":{"queued":1,"inFlight":2,"processed":3,"failed":0,"deadLettered":0,"consumers":1,"scheduled":0,
                      "sleeping":4,"waiting":5}}
            """;
        var list = await RunAsync(
            (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, $"[{worker}]"),
            null,
            "workers",
            "shop");
        var lines = Lines(list.Out);
        Assert.Matches(
            @"^NAME\s+STATE\s+VERSION\s+CONCURRENCY\s+QUEUED\s+IN-FLIGHT\s+PROCESSED\s+FAILED\s+DEAD-LETTERED"
            + @"\s+CONSUMERS\s+SLEEPING\s+WAITING$",
            lines[0]);
        Assert.Matches(@"^order\s+running\s+1\s+10\s+1\s+2\s+3\s+0\s+0\s+1\s+4\s+5$", lines[1]);

        var one = await RunAsync(
            (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, worker),
            null,
            "worker",
            "shop/order");
        Assert.Contains(Lines(one.Out), l => l == "sleeping:       4");
        Assert.Contains(Lines(one.Out), l => l == "waiting:        5");
    }

    [Fact]
    public async Task Traces_and_find_show_a_runs_resume_and_steps()
    {
        const string trace = """
            {"eventId":"0b8e2d1c-7a55-4c7e-9d0a-6f1f3c2b4a11","status":"waiting","event":{"n":1},"result":null,
             "error":null,"attempt":1,"enqueuedAt":"2026-11-23T10:00:00Z","startedAt":"2026-11-23T10:00:01Z",
             "finishedAt":"2026-11-23T10:00:02Z","queueWaitMs":1.5,"durationMs":12.25,"emitted":[],"logs":[],
             "traceId":null,"resume":2,
             "steps":[{"name":"charge#1","replayed":true,"durationMs":0.4},
                      {"name":"ship#1","replayed":false,"durationMs":12.3}]}
            """;
        var traces = await RunAsync(
            (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, $"[{trace}]"),
            null,
            "traces",
            "shop/order");
        var lines = Lines(traces.Out);
        Assert.Matches(@"^FINISHED\s+EVENT\s+STATUS\s+ATTEMPT\s+RESUME\s+STEPS\s+MS\s+RESULT$", lines[0]);
        Assert.Equal($"2026-11-23 10:00:02Z  {Id}  waiting  1        2       2 (1 replayed)  12.25  null", lines[1]);

        var found = await RunAsync(
            (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, $$"""
                {"id":"{{Id}}","found":[{"where":"trace","worker":"order","trace":{{trace}}}],"note":"n"}
                """),
            null,
            "find",
            "shop",
            Id.ToString());
        Assert.Matches(
            @"^trace\s+order\s+2026-11-23 10:00:02Z\s+waiting, attempt 1, resume 2: null$",
            Lines(found.Out)[1]);
    }
}
