namespace Workq.Tests.Integration;

/// <summary>The event lookup (GET /v1/canvases/{c}/lookup/{id}): where an event id is known, on the real services.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LookupTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private Uri LookupUrl(string canvas, string id) => cluster.ControlUrl($"/v1/canvases/{canvas}/lookup/{id}");

    private async Task<JsonNode> LookupAsync(string canvas, Guid id, string token) => (await cluster.JsonAsync(HttpMethod.Get, LookupUrl(canvas, id.ToString()), token))!;

    /// <summary>Polls the lookup until it has found the event where <paramref name="where"/> says (and any other condition).</summary>
    private Task<JsonNode> FoundAsync(string canvas, Guid id, string token, string where, Func<JsonNode, bool>? also = null) =>
        cluster.EventuallyAsync(() => LookupAsync(canvas, id, token),
            r => r["found"]!.AsArray().Any(f => f!["where"]!.GetValue<string>() == where && (also?.Invoke(f) ?? true)), Patience, $"event {id} found in {where}");

    private static JsonNode Hit(JsonNode answer, string where) => answer["found"]!.AsArray().First(f => f!["where"]!.GetValue<string>() == where)!;

    [Fact]
    public async Task A_completed_event_is_found_with_its_trace()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "done", "Log(\"ran\"); return Event![\"n\"]!.GetValue<int>() * 2;", token: token);
        var id = await cluster.EmitAsync(canvas, "done", """{"n":21}""", token);

        var answer = await FoundAsync(canvas, id, token, "trace");
        Assert.Equal(id, answer["id"]!.GetValue<Guid>());
        var hit = Hit(answer, "trace");
        Assert.Equal("done", hit["worker"]!.GetValue<string>());
        var trace = hit["trace"]!;
        Assert.Equal(id, trace["eventId"]!.GetValue<Guid>());
        Assert.Equal("completed", trace["status"]!.GetValue<string>());
        Assert.Equal(42, trace["result"]!.GetValue<int>());
        Assert.Equal("ran", trace["logs"]![0]!.GetValue<string>());
        Assert.Contains("Queued and running events are not searched", answer["note"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_failed_event_is_found_with_its_error()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "fails", "throw new InvalidOperationException(\"boom\");", token: token);
        var id = await cluster.EmitAsync(canvas, "fails", "1", token);

        var trace = Hit(await FoundAsync(canvas, id, token, "trace"), "trace")["trace"]!;
        Assert.Equal("failed", trace["status"]!.GetValue<string>());
        Assert.Equal("boom", trace["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_dead_lettered_event_is_found_as_a_dead_letter_beside_its_trace()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "dies", "throw new InvalidOperationException(\"fatal\");", token: token);
        await cluster.JsonAsync(HttpMethod.Patch, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/dies"), token, """{"retry":{"maxAttempts":1}}""");
        var id = await cluster.EmitAsync(canvas, "dies", """{"k":"v"}""", token);

        var answer = await FoundAsync(canvas, id, token, "deadLetter");
        var letter = Hit(answer, "deadLetter");
        Assert.Equal("dies", letter["worker"]!.GetValue<string>());
        Assert.Equal(id, letter["deadLetter"]!["id"]!.GetValue<Guid>());
        Assert.Equal("v", letter["deadLetter"]!["event"]!["k"]!.GetValue<string>());
        Assert.Contains("fatal", letter["deadLetter"]!["reason"]!.GetValue<string>());
        Assert.Equal(1, letter["deadLetter"]!["attempts"]!.GetValue<int>());
        var trace = Hit(await FoundAsync(canvas, id, token, "trace"), "trace")["trace"]!;
        Assert.Equal("failed", trace["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_event_for_a_missing_worker_is_found_in_the_unhandled_list()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var id = await cluster.EmitAsync(canvas, "nobody", """{"lost":true}""", token);

        var hit = Hit(await FoundAsync(canvas, id, token, "unhandled"), "unhandled");
        Assert.Equal("nobody", hit["worker"]!.GetValue<string>());
        Assert.True(hit["unhandled"]!["event"]!["lost"]!.GetValue<bool>());
        Assert.True(hit["unhandled"]!["receivedAt"]!.GetValue<DateTimeOffset>() >= hit["unhandled"]!["enqueuedAt"]!.GetValue<DateTimeOffset>().AddSeconds(-1));
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
        Assert.Equal("held", cancelled["worker"]!.GetValue<string>());
        Assert.NotNull(cancelled["cancelledAt"]);

        await cluster.JsonAsync(HttpMethod.Post, new Uri(worker + "/resume"), token);
        var trace = Hit(await FoundAsync(canvas, id, token, "trace"), "trace")["trace"]!;
        Assert.Equal("cancelled", trace["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_id_is_found_nowhere_and_the_answer_says_what_was_searched()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var id = Guid.NewGuid();
        var answer = await LookupAsync(canvas, id, token);
        Assert.Equal(id, answer["id"]!.GetValue<Guid>());
        Assert.Empty(answer["found"]!.AsArray());
        var note = answer["note"]!.GetValue<string>();
        Assert.Contains("not found in the kept traces, dead letters or unhandled events", note, StringComparison.OrdinalIgnoreCase);
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
            (LookupUrl("no-such-canvas-" + Guid.NewGuid().ToString("N")[..8], Guid.NewGuid().ToString()), cluster.AdminToken, 404),
            (LookupUrl(canvas, Guid.NewGuid().ToString()), null, 401),
        })
        {
            using var response = await cluster.SendAsync(HttpMethod.Get, url, bearer);
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
