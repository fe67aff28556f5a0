using Workq.Client;

namespace Workq.UnitTests.Client;

/// <summary>
/// The client side of durable handlers against scripted answers in the shapes the server contract promises: cancel and
/// signal an event, the sleeping and waiting statuses, the worker's sleeping and waiting counts, and a trace's resume
/// and steps.
/// </summary>
public sealed class DurableEventContractTests
{
    private static readonly Guid Id = Guid.Parse("0b8e2d1c-7a55-4c7e-9d0a-6f1f3c2b4a11");
    private static readonly string EventRoute = $"/base/v1/canvases/shop/events/{Id}";

    private static (WorkqControlClient Client, ScriptedHandler Handler) Client(
        Func<HttpRequestMessage, string, HttpResponseMessage> answer)
    {
        var handler = new ScriptedHandler(answer);
        return (new WorkqControlClient(
            new Uri("http://control.test/base"),
            "tok",
            new HttpClient(handler),
            FastRetry.Options), handler);
    }

    private static HttpResponseMessage Accepted(string json) => ScriptedHandler.Json(HttpStatusCode.Accepted, json);

    [Fact]
    public async Task CancelEventAsync_posts_the_cancel_route_without_a_body_and_reads_the_status()
    {
        var (client, handler) = Client((request, _) => Accepted(
            request.RequestUri!.AbsolutePath.Contains(Id.ToString())
                ? $$"""{"id":"{{Id}}","status":"cancelled"}"""
                : $$"""{"id":"{{Guid.Empty}}","status":"running"}"""));
        using (client)
        {
            var cancelled = await client.CancelEventAsync("shop", Id);
            Assert.Equal((Id, "cancelled", true), (cancelled.Id, cancelled.Status, cancelled.IsCancelled));
            var running = await client.CancelEventAsync("a b", Guid.Empty);
            Assert.Equal(("running", false), (running.Status, running.IsCancelled));
        }
        Assert.Equal(
        [
            (HttpMethod.Post, $"{EventRoute}/cancel", ""),
            (HttpMethod.Post, $"/base/v1/canvases/a%20b/events/{Guid.Empty}/cancel", ""),
        ], handler.Requests);
    }

    [Fact]
    public async Task A_cancel_of_a_finished_event_is_a_409_WorkqException_and_a_503_is_not_retried()
    {
        var (client, handler) = Client((_, _) => ScriptedHandler.Problem(
            HttpStatusCode.Conflict,
            "Conflict",
            $"Event '{Id}' already finished: completed.",
            retryAfter: null));
        using (client)
        {
            var final = await Assert.ThrowsAsync<WorkqException>(() => client.CancelEventAsync("shop", Id));
            Assert.Equal((HttpStatusCode.Conflict, "Conflict"), (final.StatusCode, final.Title));
            Assert.Contains("already finished", final.Detail);
        }

        var (unavailable, tried) = Client((_, _) => ScriptedHandler.Unavailable());
        using (unavailable)
        {
            await Assert.ThrowsAsync<WorkqException>(() => unavailable.CancelEventAsync("shop", Id));
            await Assert.ThrowsAsync<WorkqException>(() => unavailable.SignalAsync("shop", Id, "go", 1));
        }
        // A POST whose answer was lost may have acted: once each, as the other control writes.
        Assert.Equal(2, tried.Requests.Count);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task SignalAsync_posts_the_value_as_json_to_the_signal_route_and_reads_its_state()
    {
        string? contentType = null;
        var (client, handler) = Client((request, body) =>
        {
            contentType = request.Content?.Headers.ContentType?.ToString();
            var name = Uri.UnescapeDataString(request.RequestUri!.AbsolutePath.Split('/')[^1]);
            return Accepted(new JsonObject
            {
                ["id"] = Id.ToString(),
                ["signal"] = name,
                ["state"] = body == "null" ? "kept" : "resumed",
            }.ToJsonString());
        });
        using (client)
        {
            var resumed = await client.SignalAsync("shop", Id, "go", new { ok = true });
            Assert.Equal((Id, "go", "resumed", true), (resumed.Id, resumed.Signal, resumed.State, resumed.Resumed));
            Assert.Equal("application/json; charset=utf-8", contentType);
            var kept = await client.SignalAsync("shop", Id, "order:paid.v1");
            Assert.Equal(("order:paid.v1", "kept", false), (kept.Signal, kept.State, kept.Resumed));
            await client.SignalAsync("shop", Id, "n", JsonNode.Parse("[1,\"two\"]"));
        }
        Assert.Equal(
        [
            (HttpMethod.Post, $"{EventRoute}/signals/go", """{"ok":true}"""),
            // No value is JSON null (the API reads an empty body so too); the name's ':' is escaped into the path.
            (HttpMethod.Post, $"{EventRoute}/signals/order%3Apaid.v1", "null"),
            (HttpMethod.Post, $"{EventRoute}/signals/n", """[1,"two"]"""),
        ], handler.Requests);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    public async Task A_signal_name_no_URL_can_carry_is_refused_before_any_request(string name)
    {
        var (client, handler) = Client((_, _) => Accepted("{}"));
        using (client)
            await Assert.ThrowsAsync<ArgumentException>(() => client.SignalAsync("shop", Id, name, 1));
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task A_refused_signal_is_a_WorkqException_with_the_problems_status_and_detail()
    {
        var answers = new Queue<HttpResponseMessage>([
            ScriptedHandler.Problem(HttpStatusCode.NotFound, "Not found", "Event is waiting for 'other'.", null),
            ScriptedHandler.Problem(HttpStatusCode.Conflict, "Conflict", "Signal 'go' is already pending.", null),
            ScriptedHandler.Problem(HttpStatusCode.BadRequest, "Bad request", "Invalid signal name 'a b'.", null),
            ScriptedHandler.Problem(HttpStatusCode.RequestEntityTooLarge, "Payload too large", "Over 1 MiB.", null),
        ]);
        var (client, _) = Client((_, _) => answers.Dequeue());
        using (client)
        {
            foreach (var (status, detail) in new[]
            {
                (HttpStatusCode.NotFound, "waiting for 'other'"), (HttpStatusCode.Conflict, "already pending"),
                (HttpStatusCode.BadRequest, "Invalid signal name"), (HttpStatusCode.RequestEntityTooLarge, "1 MiB"),
            })
            {
                var refused = await Assert.ThrowsAsync<WorkqException>(() => client.SignalAsync("shop", Id, "go", 1));
                Assert.Equal(status, refused.StatusCode);
                Assert.Contains(detail, refused.Detail);
            }
        }
    }

    [Fact]
    public async Task Sleeping_and_waiting_statuses_are_not_finished_and_a_waiting_one_names_its_signal()
    {
        var answers = new Queue<string>([
            $$"""
            {"id":"{{Id}}","worker":"order","status":"waiting","attempts":1,"enqueuedAt":"2026-11-23T10:00:00Z",
             "runAt":"2026-11-23T10:05:00Z","startedAt":"2026-11-23T10:00:01Z","finishedAt":null,"result":null,
             "error":null,"waitingFor":"go"}
            """,
            $$"""
            {"id":"{{Id}}","worker":"order","status":"sleeping","attempts":1,"enqueuedAt":"2026-11-23T10:00:00Z",
             "runAt":"2026-11-23T11:00:00Z","startedAt":"2026-11-23T10:00:01Z","finishedAt":null,"result":null,
             "error":null,"waitingFor":null}
            """,
            // A server older than durable handlers sends no waitingFor.
            $$"""
            {"id":"{{Id}}","worker":"order","status":"completed","attempts":1,"enqueuedAt":"2026-11-23T10:00:00Z",
             "runAt":null,"startedAt":"2026-11-23T10:00:01Z","finishedAt":"2026-11-23T10:00:02Z",
             "result":{"ok":true},"error":null}
            """,
        ]);
        var (client, _) = Client((_, _) => ScriptedHandler.Json(HttpStatusCode.OK, answers.Dequeue()));
        using (client)
        {
            var waiting = await client.GetEventAsync("shop", Id);
            Assert.Equal(("waiting", "go", false), (waiting.Status, waiting.WaitingFor, waiting.IsFinished));
            Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 5, 0, TimeSpan.Zero), waiting.RunAt);
            var sleeping = await client.GetEventAsync("shop", Id);
            Assert.Equal(("sleeping", null, false), (sleeping.Status, sleeping.WaitingFor, sleeping.IsFinished));
            Assert.Equal(new DateTimeOffset(2026, 11, 23, 11, 0, 0, TimeSpan.Zero), sleeping.RunAt);
            var completed = await client.GetEventAsync("shop", Id);
            Assert.Equal(("completed", null, true), (completed.Status, completed.WaitingFor, completed.IsFinished));
        }
        foreach (var final in new[] { "failed", "timedOut", "cancelled", "deadLettered", "quarantined" })
            Assert.True(Status(final).IsFinished, final);
        foreach (var open in new[] { "scheduled", "queued", "running", "sleeping", "waiting" })
            Assert.False(Status(open).IsFinished, open);
    }

    private static EventStatus Status(string status) =>
        new(Id, "w", status, 1, DateTimeOffset.UnixEpoch, null, null, null, null, null);

    [Fact]
    public async Task WaitForEventAsync_keeps_polling_through_waiting_until_the_event_finished()
    {
        var statuses = new Queue<string>(["waiting", "queued", "running", "completed"]);
        var (client, handler) = Client((_, _) => ScriptedHandler.Json(HttpStatusCode.OK, $$"""
            {"id":"{{Id}}","worker":"order","status":"{{statuses.Dequeue()}}","attempts":1,
             "enqueuedAt":"2026-11-23T10:00:00Z","runAt":null,"startedAt":null,"finishedAt":null,"result":null,
             "error":null,"waitingFor":null}
            """));
        using (client)
            Assert.Equal("completed", (await client.WaitForEventAsync("shop", Id, TimeSpan.FromMinutes(1))).Status);
        Assert.Equal(4, handler.Requests.Count);
    }

    [Fact]
    public async Task Worker_stats_read_the_sleeping_and_waiting_counts_and_default_them_to_0()
    {
        const string before = """
            {"canvas":"shop","name":"order","version":1,"state":"running","blockedReason":null,"concurrency":10,
             "retry":null,"stats":{"queued":1,"inFlight":2,"processed":3,"failed":0,"deadLettered":0,"consumers":1,
             "scheduled":0
            """;
        var answers = new Queue<string>([before + ""","sleeping":4,"waiting":5}}""", before + "}}"]);
        var (client, _) = Client((_, _) => ScriptedHandler.Json(HttpStatusCode.OK, answers.Dequeue()));
        using (client)
        {
            var stats = (await client.GetWorkerAsync("shop", "order")).Stats;
            Assert.Equal((1, 2, 4, 5), (stats.Queued, stats.InFlight, stats.Sleeping, stats.Waiting));
            var older = (await client.GetWorkerAsync("shop", "order")).Stats;
            Assert.Equal((0, 0), (older.Sleeping, older.Waiting));
        }
    }

    [Fact]
    public async Task A_trace_reads_its_resume_and_steps_and_a_cancelled_runs_error()
    {
        const string traces = """
            [{"eventId":"0b8e2d1c-7a55-4c7e-9d0a-6f1f3c2b4a11","status":"waiting","event":{"n":1},"result":null,
              "error":null,"attempt":1,"enqueuedAt":"2026-11-23T10:00:00Z","startedAt":"2026-11-23T10:00:01Z",
              "finishedAt":"2026-11-23T10:00:02Z","queueWaitMs":1.5,"durationMs":12.25,"emitted":[],"logs":[],
              "traceId":null,"resume":2,
              "steps":[{"name":"charge#1","replayed":true,"durationMs":0.4},
                       {"name":"ship#1","replayed":false,"durationMs":12.3}]},
             {"eventId":"0b8e2d1c-7a55-4c7e-9d0a-6f1f3c2b4a11","status":"cancelled","event":{"n":1},"result":null,
              "error":{"type":"OperationCanceledException","message":"Cancelled by admin"},"attempt":1,
              "enqueuedAt":"2026-11-23T10:00:00Z","startedAt":"2026-11-23T10:00:01Z",
              "finishedAt":"2026-11-23T10:00:02Z","queueWaitMs":1.5,"durationMs":12.25,"emitted":[],"logs":[],
              "traceId":null}]
            """;
        var (client, _) = Client((_, _) => ScriptedHandler.Json(HttpStatusCode.OK, traces));
        IReadOnlyList<Trace> read;
        using (client) read = await client.GetTracesAsync("shop", "order");

        Assert.Equal(("waiting", 2), (read[0].Status, read[0].Resume));
        Assert.Equal(
            [new TraceStep("charge#1", true, 0.4), new TraceStep("ship#1", false, 12.3)],
            read[0].Steps);
        // A trace from before durable handlers: the first run, no steps.
        Assert.Equal(("cancelled", 0, "Cancelled by admin"), (read[1].Status, read[1].Resume, read[1].Error!.Message));
        Assert.Empty(read[1].Steps);
    }
}
