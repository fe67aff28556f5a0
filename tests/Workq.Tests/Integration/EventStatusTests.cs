using System.Diagnostics;
using Workq.Client;

namespace Workq.Tests.Integration;

/// <summary>
/// The event status (GET /v1/canvases/{c}/events/{id}, ?wait=N) through every state, on the real services and broker.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class EventStatusTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private Uri StatusUrl(string canvas, string id, string? wait = null) =>
        cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}" + (wait is null ? "" : $"?wait={wait}"));

    private async Task<JsonNode> StatusAsync(string canvas, Guid id, string token, int? wait = null) =>
        (await cluster.JsonAsync(
            HttpMethod.Get,
            StatusUrl(canvas, id.ToString(), wait?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            token))!;

    /// <summary>An event queued for worker <c>held</c>, which is paused; <c>Worker</c> is its control URL.</summary>
    private async Task<(string Canvas, string Token, Uri Worker, Guid Id)> QueuedOnAPausedWorkerAsync()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var worker = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/held");
        await cluster.DeployAsync(canvas, "held", "return 1;", token: token);
        await cluster.JsonAsync(HttpMethod.Post, new Uri(worker + "/pause"), token);
        var id = await cluster.EmitAsync(canvas, "held", "1", token);
        await StatusEventuallyAsync(canvas, id, token, "queued");
        return (canvas, token, worker, id);
    }

    private async Task<JsonNode> StatusEventuallyAsync(
        string canvas,
        Guid id,
        string token,
        string status,
        Func<JsonNode, bool>? also = null) =>
        await cluster.EventuallyAsync(async () =>
        {
            using var response = await cluster.SendAsync(HttpMethod.Get, StatusUrl(canvas, id.ToString()), token);
            return response.IsSuccessStatusCode
                ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!
                : new JsonObject();
        }, s => s["status"]?.GetValue<string>() == status
            && (also?.Invoke(s) ?? true), Patience, $"event {id} {status}");

    private static string Status(JsonNode answer) => answer["status"]!.GetValue<string>();

    [Fact]
    public async Task A_wait_returns_completed_with_the_result_as_soon_as_the_event_finishes()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(
            canvas,
            "slowish",
            "await Task.Delay(1000, CancellationToken); return new { n = Event![\"n\"]!.GetValue<int>() * 2 };",
            token: token);
        var id = await cluster.EmitAsync(canvas, "slowish", """{"n":21}""", token);

        var clock = Stopwatch.StartNew();
        var answer = await StatusAsync(canvas, id, token, wait: 30);
        // Woken by the finish, not by the end of the wait (which would be 30 s).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the wait took {clock.Elapsed}");
        Assert.Equal("completed", Status(answer));
        Assert.Equal(id, answer["id"]!.GetValue<Guid>());
        Assert.Equal("slowish", answer["worker"]!.GetValue<string>());
        Assert.Equal(1, answer["attempts"]!.GetValue<int>());
        Assert.Equal(42, answer["result"]!["n"]!.GetValue<int>());
        Assert.Null(answer["error"]);
        Assert.Null(answer["runAt"]);
        var enqueuedAt = answer["enqueuedAt"]!.GetValue<DateTimeOffset>();
        var startedAt = answer["startedAt"]!.GetValue<DateTimeOffset>();
        var finishedAt = answer["finishedAt"]!.GetValue<DateTimeOffset>();
        Assert.True(
            enqueuedAt <= startedAt.AddMilliseconds(50) && startedAt < finishedAt,
            $"{enqueuedAt} {startedAt} {finishedAt}");
        Assert.True(finishedAt - startedAt >= TimeSpan.FromMilliseconds(900));
        // Every key of the contract is present, null or not.
        foreach (var key in new[] {
            "id",
            "worker",
            "status",
            "attempts",
            "enqueuedAt",
            "runAt",
            "startedAt",
            "finishedAt",
            "result",
            "error" })
            Assert.True(answer.AsObject().ContainsKey(key), key);
    }

    [Fact]
    public async Task A_delayed_event_is_scheduled_with_its_run_at_then_completed_no_earlier()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "later", "return 7;", token: token);
        using var emitted = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/later/events?delaySeconds=4"),
            token,
            "1");
        Assert.Equal(HttpStatusCode.Accepted, emitted.StatusCode);
        var id = (await emitted.Content.ReadAsStringAsync()).As<EmitAccepted>().Id;

        var scheduled = await StatusEventuallyAsync(canvas, id, token, "scheduled");
        var runAt = scheduled["runAt"]!.GetValue<DateTimeOffset>();
        Assert.True(runAt > scheduled["enqueuedAt"]!.GetValue<DateTimeOffset>().AddSeconds(3.5), $"runAt {runAt}");
        Assert.Null(scheduled["startedAt"]);

        var done = await StatusAsync(canvas, id, token, wait: 30);
        Assert.Equal("completed", Status(done));
        Assert.Equal(runAt, done["runAt"]!.GetValue<DateTimeOffset>());
        Assert.True(
            done["startedAt"]!.GetValue<DateTimeOffset>() >= runAt,
            $"started {done["startedAt"]} before its runAt {runAt}");
        Assert.Equal(7, done["result"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_wait_on_an_event_that_cannot_run_answers_its_current_status_when_the_wait_runs_out()
    {
        var (canvas, token, worker, id) = await QueuedOnAPausedWorkerAsync();

        var clock = Stopwatch.StartNew();
        var answer = await StatusAsync(canvas, id, token, wait: 2);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"answered after {clock.Elapsed}");
        Assert.Equal("queued", Status(answer));
        Assert.Null(answer["startedAt"]);
        Assert.Null(answer["finishedAt"]);

        await cluster.JsonAsync(HttpMethod.Post, new Uri(worker + "/resume"), token);
        Assert.Equal("completed", Status(await StatusAsync(canvas, id, token, wait: 30)));
    }

    [Fact]
    public async Task A_running_event_is_running_then_completed()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "long", "await Task.Delay(2500, CancellationToken); return 1;", token: token);
        var id = await cluster.EmitAsync(canvas, "long", "1", token);

        var running = await StatusEventuallyAsync(canvas, id, token, "running");
        Assert.NotNull(running["startedAt"]);
        Assert.Null(running["finishedAt"]);
        Assert.Equal(1, running["attempts"]!.GetValue<int>());
        Assert.Equal("completed", Status(await StatusAsync(canvas, id, token, wait: 30)));
    }

    [Fact]
    public async Task Failed_and_timed_out_events_carry_their_error()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "fails", "throw new InvalidOperationException(\"boom\");", token: token);
        await cluster.DeployAsync(
            canvas,
            "slow",
            "await Task.Delay(TimeSpan.FromSeconds(30), CancellationToken); return 1;",
            token: token);
        var failed = await cluster.EmitAsync(canvas, "fails", "1", token);
        var slow = await cluster.EmitAsync(canvas, "slow", "1", token);

        var failure = await StatusAsync(canvas, failed, token, wait: 30);
        Assert.Equal("failed", Status(failure));
        Assert.Contains("boom", failure["error"]!.GetValue<string>());
        Assert.Null(failure["result"]);
        var timeout = await StatusAsync(canvas, slow, token, wait: 30);
        Assert.Equal("timedOut", Status(timeout));
        Assert.NotNull(timeout["error"]);
    }

    [Fact]
    public async Task An_un_enqueued_event_is_cancelled_at_once_and_stays_cancelled_when_its_worker_reaches_it()
    {
        var (canvas, token, worker, id) = await QueuedOnAPausedWorkerAsync();

        await cluster.JsonAsync(HttpMethod.Delete, new Uri(worker + $"/events/{id}"), token, expect: 202);
        var cancelled = await StatusAsync(canvas, id, token);
        Assert.Equal("cancelled", Status(cancelled));
        Assert.NotNull(cancelled["finishedAt"]);

        // The worker reaches it, skips it and traces it cancelled; the status never goes back to queued or on to
        // completed.
        await cluster.JsonAsync(HttpMethod.Post, new Uri(worker + "/resume"), token);
        await cluster.EventuallyAsync(
            () => cluster.TracesAsync(canvas, "held"),
            t => t.Count == 1,
            Patience,
            "the cancelled event traced");
        Assert.Equal("cancelled", Status(await StatusAsync(canvas, id, token)));
    }

    /// <summary>
    /// Issue 25, "A status that never moves on": an un-enqueue sent right after a delayed emit's 202 lands before the
    /// emitter's flush writes the event's <c>scheduled</c>. The event never runs, and its status is <c>cancelled</c>
    /// for good.
    /// </summary>
    [Fact]
    public async Task A_delayed_emit_un_enqueued_right_after_its_202_is_cancelled_for_good_whichever_write_lands_first()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "later", "return 1;", token: token);
        var ids = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            var accepted = await cluster.JsonAsync(
                HttpMethod.Post,
                cluster.EmitUrl($"/v1/canvases/{canvas}/workers/later/events?delaySeconds=600"),
                token,
                "{}",
                expect: 202);
            var id = accepted.As<EmitAccepted>().Id;
            await cluster.JsonAsync(
                HttpMethod.Delete,
                cluster.ControlUrl($"/v1/canvases/{canvas}/workers/later/events/{id}"),
                token,
                expect: 202);
            ids.Add(id);
        }
        // A marker the emitter notes after them: once its status is readable, the emitter's flush of every scheduled
        // above has landed.
        var marker = await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/later/events?delaySeconds=600"),
            token,
            "{}",
            expect: 202);
        await StatusEventuallyAsync(canvas, marker.As<EmitAccepted>().Id, token, "scheduled");

        foreach (var id in ids)
        {
            var status = await StatusAsync(canvas, id, token);
            Assert.True(Status(status) == "cancelled", $"event {id}: {status}");
            Assert.NotNull(status["finishedAt"]);
        }
        // Only the marker still waits.
        Assert.Equal(1, (await cluster.GetWorkerDetailAsync(canvas, "later")).Stats.Scheduled);
    }

    [Fact]
    public async Task Retries_go_back_to_queued_a_dead_letter_is_dead_lettered_and_a_redrive_starts_again()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var worker = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/flaky");
        await cluster.DeployAsync(canvas, "flaky", "throw new InvalidOperationException(\"fatal\");", token: token);
        await cluster.JsonAsync(
            HttpMethod.Patch,
            worker,
            token,
            """{"retry":{"maxAttempts":2,"backoffSeconds":[2]}}""");
        var id = await cluster.EmitAsync(canvas, "flaky", """{"k":"v"}""", token);

        // Between the attempts it waits in its delay queue: queued again, attempt 2, with the first error.
        var retrying = await StatusEventuallyAsync(
            canvas,
            id,
            token,
            "queued",
            s => s["attempts"]!.GetValue<int>() == 2);
        Assert.Contains("fatal", retrying["error"]!.GetValue<string>());
        var dead = await StatusAsync(canvas, id, token, wait: 30);
        Assert.Equal("deadLettered", Status(dead));
        Assert.Equal(2, dead["attempts"]!.GetValue<int>());
        Assert.Contains("fatal", dead["error"]!.GetValue<string>());
        await cluster.EventuallyAsync(
            () => cluster.JsonAsync(HttpMethod.Get, new Uri(worker + "/dead-letters"), token),
            d => d!.AsArray().Count == 1,
            Patience,
            "dead letter stored");

        await cluster.DeployAsync(canvas, "flaky", "return \"fixed\";", token: token, expect: 200);
        await cluster.JsonAsync(HttpMethod.Post, new Uri(worker + "/dead-letters/redrive"), token);
        var redriven = await StatusEventuallyAsync(canvas, id, token, "completed");
        Assert.Equal("fixed", redriven["result"]!.GetValue<string>());
        Assert.Equal(1, redriven["attempts"]!.GetValue<int>());
        Assert.Null(redriven["error"]);
    }

    [Fact]
    public async Task An_event_for_a_missing_worker_is_queued()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var id = await cluster.EmitAsync(canvas, "nobody", "1", token);
        var answer = await StatusEventuallyAsync(canvas, id, token, "queued");
        Assert.Equal("nobody", answer["worker"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_handler_emit_is_queued_and_then_completed()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "child", "return 2;", token: token);
        await cluster.DeployAsync(canvas, "parent", "return await Emit(\"child\", 1);", token: token);
        var parent = await cluster.EmitAsync(canvas, "parent", "1", token);
        var child = (await StatusAsync(canvas, parent, token, wait: 30))["result"]!.GetValue<Guid>();
        var answer = await StatusAsync(canvas, child, token, wait: 30);
        Assert.Equal("completed", Status(answer));
        Assert.Equal(2, answer["result"]!.GetValue<int>());
    }

    /// <summary>
    /// Tenant test: another canvas's token is refused, and asking on one's own canvas for another canvas's id says
    /// nothing of it.
    /// </summary>
    [Fact]
    public async Task Another_canvas_cannot_see_an_event_nor_learn_that_it_exists()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var (other, otherToken) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "secret", "return \"private\";", token: token);
        var id = await cluster.EmitAsync(canvas, "secret", "1", token);
        Assert.Equal("completed", Status(await StatusAsync(canvas, id, token, wait: 30)));

        var unknown = Guid.NewGuid();
        foreach (var (url, bearer, status) in new[]
        {
            (StatusUrl(canvas, id.ToString()), otherToken, 403),
            (StatusUrl(other, id.ToString()), otherToken, 404),
            (StatusUrl(other, id.ToString(), "1"), otherToken, 404),
            (StatusUrl(other, unknown.ToString()), otherToken, 404),
            (StatusUrl(canvas, id.ToString()), null, 401),
        })
        {
            using var response = await cluster.SendAsync(HttpMethod.Get, url, bearer);
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("private", await response.Content.ReadAsStringAsync());
        }
        // The two 404s read alike: nothing tells an id of another canvas from one that never was.
        using var theirs = await cluster.SendAsync(HttpMethod.Get, StatusUrl(other, id.ToString()), otherToken);
        using var nobodys = await cluster.SendAsync(HttpMethod.Get, StatusUrl(other, unknown.ToString()), otherToken);
        var (a, b) = (JsonNode.Parse(await nobodys.Content.ReadAsStringAsync())!, JsonNode.Parse(
            await theirs.Content.ReadAsStringAsync())!);
        Assert.Equal(a["title"]!.GetValue<string>(), b["title"]!.GetValue<string>());
        Assert.Equal(
            a["detail"]!.GetValue<string>().Replace(unknown.ToString(), "ID"),
            b["detail"]!.GetValue<string>().Replace(id.ToString(), "ID"));
    }

    /// <summary>
    /// A hostile handler's result and error land in the status store; they must not break the batch its canvas shares
    /// with others.
    /// </summary>
    [Fact]
    public async Task A_hostile_result_or_error_does_not_stop_other_canvases_statuses()
    {
        var (hostile, hostileToken) = await cluster.CreateCanvasAsync();
        var (victim, victimToken) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(
            hostile,
            "nul",
            "return \"a\\u0000b\" + new string('x', 100000);",
            token: hostileToken);
        await cluster.DeployAsync(
            hostile,
            "nulerror",
            "throw new Exception(\"bad\\u0000\" + new string('y', 100000));",
            token: hostileToken);
        await cluster.DeployAsync(victim, "plain", "return 5;", token: victimToken);

        var nul = await cluster.EmitAsync(hostile, "nul", "1", hostileToken);
        var nulError = await cluster.EmitAsync(hostile, "nulerror", "1", hostileToken);
        var plain = await cluster.EmitAsync(victim, "plain", "1", victimToken);

        Assert.Equal(5, (await StatusAsync(victim, plain, victimToken, wait: 30))["result"]!.GetValue<int>());
        var capped = await StatusAsync(hostile, nul, hostileToken, wait: 30);
        Assert.Equal("completed", Status(capped));
        Assert.EndsWith("… [truncated at WORKQ_MAX_TRACE_BYTES (65536 bytes)]", capped["result"]!.GetValue<string>());
        var error = await StatusAsync(hostile, nulError, hostileToken, wait: 30);
        Assert.Equal("failed", Status(error));
        Assert.True(error["error"]!.GetValue<string>().Length <= 2_000);
        // Stored by the tenant-text rule: the NUL as U+2400.
        Assert.StartsWith("Exception: bad\u2400yyy", error["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bad_ids_and_waits_are_400_and_an_unknown_id_404()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var id = Guid.NewGuid().ToString();
        foreach (var (url, status) in new[]
        {
            (StatusUrl(canvas, "not-a-guid"), 400),
            (StatusUrl(canvas, id, "61"), 400),
            (StatusUrl(canvas, id, "-1"), 400),
            (StatusUrl(canvas, id, "abc"), 400),
            (StatusUrl(canvas, id, "1.5"), 400),
            (StatusUrl(canvas, id), 404),
            (StatusUrl(canvas, id, "0"), 404),
        })
        {
            using var response = await cluster.SendAsync(HttpMethod.Get, url, token);
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
