using Workq.Client;

namespace Workq.Tests.Integration;

/// <summary>
/// The event lookup (GET /v1/canvases/{c}/lookup/{id}): where an event id is known, on the real services.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LookupTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private Uri LookupUrl(string canvas, string id) => cluster.ControlUrl($"/v1/canvases/{canvas}/lookup/{id}");

    private async Task<EventLookup> LookupAsync(string canvas, Guid id, string token) =>
        (await cluster.JsonAsync(HttpMethod.Get, LookupUrl(canvas, id.ToString()), token)).As<EventLookup>();

    /// <summary>Polls the lookup until it has found the event where <paramref name="where"/> says.</summary>
    private Task<EventLookup> FoundAsync(string canvas, Guid id, string token, string where) =>
        cluster.EventuallyAsync(() => LookupAsync(canvas, id, token), r => r.Found.Any(f => f.Where == where), Patience,
            $"event {id} found in {where}");

    private static EventLocation Hit(EventLookup answer, string where) => answer.Found.First(f => f.Where == where);

    [Fact]
    public async Task A_completed_event_is_found_with_its_trace()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(
            canvas,
            "done",
            "Log(\"ran\"); return Event![\"n\"]!.GetValue<int>() * 2;",
            token: token);
        var id = await cluster.EmitAsync(canvas, "done", """{"n":21}""", token);

        var answer = await FoundAsync(canvas, id, token, "trace");
        Assert.Equal(id, answer.Id);
        var hit = Hit(answer, "trace");
        Assert.Equal("done", hit.Worker);
        var trace = hit.Trace!;
        Assert.Equal(id, trace.EventId);
        Assert.Equal("completed", trace.Status);
        Assert.Equal(42, trace.Result!.GetValue<int>());
        Assert.Equal("ran", trace.Logs[0]);
        Assert.Contains("Queued and running events are not searched", answer.Note);
    }

    [Fact]
    public async Task A_failed_event_is_found_with_its_error()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "fails", "throw new InvalidOperationException(\"boom\");", token: token);
        var id = await cluster.EmitAsync(canvas, "fails", "1", token);

        var trace = Hit(await FoundAsync(canvas, id, token, "trace"), "trace").Trace!;
        Assert.Equal("failed", trace.Status);
        Assert.Equal("boom", trace.Error!.Message);
    }

    [Fact]
    public async Task A_dead_lettered_event_is_found_as_a_dead_letter_beside_its_trace()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "dies", "throw new InvalidOperationException(\"fatal\");", token: token);
        await cluster.JsonAsync(
            HttpMethod.Patch,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/dies"),
            token,
            """{"retry":{"maxAttempts":1}}""");
        var id = await cluster.EmitAsync(canvas, "dies", """{"k":"v"}""", token);

        var answer = await FoundAsync(canvas, id, token, "deadLetter");
        var letter = Hit(answer, "deadLetter");
        Assert.Equal("dies", letter.Worker);
        Assert.Equal(id, letter.DeadLetter!.Id);
        Assert.Equal("v", letter.DeadLetter.Event!["k"]!.GetValue<string>());
        Assert.Contains("fatal", letter.DeadLetter.Reason);
        Assert.Equal(1, letter.DeadLetter.Attempts);
        var trace = Hit(await FoundAsync(canvas, id, token, "trace"), "trace").Trace!;
        Assert.Equal("failed", trace.Status);
    }

    [Fact]
    public async Task An_event_for_a_missing_worker_is_found_in_the_unhandled_list()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var id = await cluster.EmitAsync(canvas, "nobody", """{"lost":true}""", token);

        var hit = Hit(await FoundAsync(canvas, id, token, "unhandled"), "unhandled");
        Assert.Equal("nobody", hit.Worker);
        Assert.True(hit.Unhandled!.Event!["lost"]!.GetValue<bool>());
        Assert.True(hit.Unhandled.ReceivedAt >= hit.Unhandled.EnqueuedAt.AddSeconds(-1));
    }

    [Fact]
    public async Task An_un_enqueued_event_is_found_as_cancelled_and_traced_as_cancelled_once_it_reaches_the_worker()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var worker = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/held");
        await cluster.DeployAsync(canvas, "held", "return 1;", token: token);
        await cluster.JsonAsync(HttpMethod.Post, new Uri(worker + "/pause"), token);
        var id = await cluster.EmitAsync(canvas, "held", "1", token);
        await cluster.JsonAsync(HttpMethod.Delete, new Uri(worker + $"/events/{id}"), token, expect: 202);

        var cancelled = Hit(await FoundAsync(canvas, id, token, "cancelled"), "cancelled");
        Assert.Equal("held", cancelled.Worker);
        Assert.NotNull(cancelled.CancelledAt);

        await cluster.JsonAsync(HttpMethod.Post, new Uri(worker + "/resume"), token);
        var trace = Hit(await FoundAsync(canvas, id, token, "trace"), "trace").Trace!;
        Assert.Equal("cancelled", trace.Status);
    }

    [Fact]
    public async Task An_unknown_id_is_found_nowhere_and_the_answer_says_what_was_searched()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var id = Guid.NewGuid();
        var answer = await LookupAsync(canvas, id, token);
        Assert.Equal(id, answer.Id);
        Assert.Empty(answer.Found);
        var note = answer.Note;
        Assert.Contains(
            "not found in the kept traces, dead letters or unhandled events",
            note,
            StringComparison.OrdinalIgnoreCase);
        Assert.Contains("traces keep the last 10 runs per worker", note);
    }

    [Fact]
    public async Task A_bad_id_is_400_another_canvas_token_403_and_an_unknown_canvas_404()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var (_, otherToken) = await cluster.CreateCanvasAsync();
        foreach (var (url, bearer, status) in new[]
        {
            (LookupUrl(canvas, "not-a-guid"), token, 400),
            (LookupUrl(canvas, Guid.NewGuid().ToString()), otherToken, 403),
            (LookupUrl("no-such-canvas-" + Guid.NewGuid().ToString("N")[..8], Guid.NewGuid().ToString()), cluster
                .AdminToken, 404),
            (LookupUrl(canvas, Guid.NewGuid().ToString()), null, 401),
        })
        {
            using var response = await cluster.SendAsync(HttpMethod.Get, url, bearer);
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
