using Workq.Client;

namespace Workq.Tests.Integration;

/// <summary>API.md as written: auth, names, bad input always problem+json 4xx, compile errors, canvases.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ApiContractTests(WorkqCluster cluster)
{
    private async Task AssertProblemAsync(HttpResponseMessage response, int status, string? detailContains = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(
            (int)response.StatusCode == status,
            $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri} answered "
            + $"{(int)response.StatusCode}, expected {status}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal(status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["title"]?.GetValue<string>()));
        if (detailContains is not null) Assert.Contains(detailContains, problem["detail"]!.GetValue<string>());
    }

    private async Task ExpectAsync(
        HttpMethod method,
        Uri url,
        string? token,
        string? body,
        int status,
        string? detailContains = null)
    {
        using var response = await cluster.SendAsync(method, url, token, body);
        await AssertProblemAsync(response, status, detailContains);
    }

    [Fact]
    public async Task The_auth_matrix_holds_on_every_kind_of_route()
    {
        var (mine, myToken) = await cluster.CreateCanvasAsync("mine");
        var (other, _) = await cluster.CreateCanvasAsync("other");
        await cluster.DeployAsync(other, "w", "return 1;");

        var routes = new (HttpMethod Method, Uri Url, string? Body)[]
        {
            (HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{other}/workers"), null),
            (HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{other}/workers/w"), null),
            (HttpMethod.Put, cluster.ControlUrl($"/v1/canvases/{other}/workers/w"), """{"code":"return 1;"}"""),
            (HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{other}/workers/w/pause"), null),
            (HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{other}/workers/w/traces"), null),
            (HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{other}/workers/w/events"), "{}"),
            (HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{other}/events"), """[{"worker":"w","event":1}]"""),
        };
        foreach (var (method, url, body) in routes)
        {
            await ExpectAsync(method, url, null, body, 401);
            await ExpectAsync(method, url, "wq_not-a-real-token", body, 401);
            await ExpectAsync(method, url, myToken, body, 403, mine);
        }

        // Admin-only routes refuse a canvas token, even on its own canvas.
        await ExpectAsync(HttpMethod.Get, cluster.ControlUrl("/v1/canvases"), myToken, null, 403);
        await ExpectAsync(HttpMethod.Post, cluster.ControlUrl("/v1/canvases"), myToken, """{"name":"x"}""", 403);
        await ExpectAsync(HttpMethod.Delete, cluster.ControlUrl($"/v1/canvases/{mine}"), myToken, null, 403);
        await cluster.DeployAsync(mine, "w", "return 1;", token: myToken);
        await ExpectAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{mine}/workers/w/block"),
            myToken,
            """{"reason":"no"}""",
            403);

        // The canvas token works on its own canvas.
        Assert.Single((await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{mine}/workers"),
            myToken))!.AsArray());
        await cluster.EmitAsync(mine, "w", "1", myToken);
    }

    /// <summary>
    /// The route groups' access filters keep the order the handlers checked in: who may act, then which canvas, then
    /// the other names.
    /// </summary>
    [Fact]
    public async Task Access_is_checked_before_the_names_in_the_path()
    {
        var (mine, myToken) = await cluster.CreateCanvasAsync("mine");
        var (other, _) = await cluster.CreateCanvasAsync("other");
        var cases = new (HttpMethod Method, Uri Url, string? Token, int Status, string Detail)[]
        {
            (HttpMethod.Get, cluster.ControlUrl("/v1/canvases/bad.canvas/workers/bad.worker"), null, 401, "Bearer"),
            (HttpMethod.Get, cluster.ControlUrl(
                "/v1/canvases/bad.canvas/workers/bad.worker"), myToken, 400, "Invalid canvas name"),
            (HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{other}/workers/bad.worker"), myToken, 403, mine),
            (HttpMethod.Get, cluster.ControlUrl("/v1/canvases/no-such-canvas/workers/bad.worker"), cluster
                .AdminToken, 404, "no canvas"),
            (HttpMethod.Post, cluster.ControlUrl(
                $"/v1/canvases/{mine}/workers/bad.worker/block"), myToken, 403, "admin token"),
            (HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{mine}/workers/bad.worker/block"), cluster
                .AdminToken, 400, "Invalid worker name"),
            (HttpMethod.Delete, cluster.ControlUrl(
                $"/v1/canvases/{mine}/unhandled/bad.worker"), myToken, 400, "Invalid worker name"),
            (HttpMethod.Get, cluster.ControlUrl(
                $"/v1/canvases/{mine}/crons/bad.cron"), myToken, 400, "Invalid cron name"),
            (HttpMethod.Delete, cluster.ControlUrl("/v1/canvases/bad.canvas"), myToken, 403, "admin token"),
            (HttpMethod.Get, cluster.ControlUrl("/v1/instances"), myToken, 403, "admin token"),
            (HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{other}/workers/bad.worker/events"), myToken, 403, mine),
            (HttpMethod.Post, cluster.EmitUrl("/v1/canvases/no-such-canvas/workers/bad.worker/events"), cluster
                .AdminToken, 404, "no canvas"),
        };
        foreach (var (method, url, token, status, detail) in cases)
            await ExpectAsync(
                method,
                url,
                token,
                method == HttpMethod.Get || method == HttpMethod.Delete ? null : "{}",
                status,
                detail);
    }

    [Fact]
    public async Task Bad_input_gets_problem_json_4xx_never_a_500()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "w", "return 1;", token: token);
        var admin = cluster.AdminToken;
        var workerUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w");
        var emitUrl = cluster.EmitUrl($"/v1/canvases/{canvas}/workers/w/events");
        var batchUrl = cluster.EmitUrl($"/v1/canvases/{canvas}/events");

        var cases = new (HttpMethod Method, Uri Url, string? Body, int Status, string? Detail)[]
        {
            // Canvases
            (HttpMethod.Post, cluster.ControlUrl("/v1/canvases"), "{", 400, "not valid JSON"),
            (HttpMethod.Post, cluster.ControlUrl("/v1/canvases"), "", 400, "The body is empty"),
            (HttpMethod.Post, cluster.ControlUrl("/v1/canvases"), "[]", 400, null),
            (HttpMethod.Post, cluster.ControlUrl("/v1/canvases"), """{"name":42}""", 400, null),
            (HttpMethod.Post, cluster.ControlUrl(
                "/v1/canvases"), """{"name":"has space"}""", 400, "Invalid canvas name"),
            (HttpMethod.Post, cluster.ControlUrl(
                "/v1/canvases"), """{"name":"-leading"}""", 400, "Invalid canvas name"),
            (HttpMethod.Post, cluster.ControlUrl(
                "/v1/canvases"), $$"""{"name":"{{new string('a', 65)}}"}""", 400, "Invalid canvas name"),
            (HttpMethod.Post, cluster.ControlUrl("/v1/canvases"), $$"""{"name":"{{canvas}}"}""", 409, "exists"),
            (HttpMethod.Delete, cluster.ControlUrl("/v1/canvases/no-such-canvas"), null, 404, null),
            (HttpMethod.Delete, cluster.ControlUrl("/v1/canvases/bad%20name"), null, 400, null),
            // Workers
            (HttpMethod.Put, workerUrl, "not json", 400, "not valid JSON"),
            (HttpMethod.Put, workerUrl, "{}", 400, "\"code\" is required"),
            (HttpMethod.Put, workerUrl, """{"code":5}""", 400, null),
            (HttpMethod.Put, workerUrl, """{"code":"return 1;","concurrency":0}""", 400, "concurrency"),
            (HttpMethod.Put, workerUrl, """{"code":"return 1;","concurrency":1001}""", 400, "concurrency"),
            (HttpMethod.Put, workerUrl, """{"code":"return 1;","concurrency":"ten"}""", 400, null),
            (HttpMethod
                .Put, workerUrl, """{"code":"return 1;","retyr":{"maxAttempts":3}}""", 400, "Unknown field(s): retyr"),
            (HttpMethod.Put, workerUrl, """{"code":"return 1;","retry":{"maxAttempts":0}}""", 400, "maxAttempts"),
            (HttpMethod.Put, workerUrl, """{"code":"return 1;","retry":"often"}""", 400, "retry"),
            (HttpMethod.Put, cluster.ControlUrl(
                $"/v1/canvases/{canvas}/workers/bad.name"), """{"code":"return 1;"}""", 400, "Invalid worker name"),
            (HttpMethod.Put, cluster.ControlUrl(
                $"/v1/canvases/no-such-canvas/workers/w"), """{"code":"return 1;"}""", 404, "no canvas"),
            (HttpMethod.Patch, workerUrl, """{"concurrency":-1}""", 400, "concurrency"),
            (HttpMethod.Patch, workerUrl, """{"concurrency":"x"}""", 400, "concurrency"),
            (HttpMethod.Patch, workerUrl, """{"retry":{"maxAttempts":0}}""", 400, "maxAttempts"),
            (HttpMethod.Patch, workerUrl, """{"retry":"often"}""", 400, "retry"),
            (HttpMethod.Patch, workerUrl, """{"code":"return 2;"}""", 400, "Unknown setting"),
            (HttpMethod.Patch, workerUrl, "[1,2]", 400, null),
            (HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/nobody"), null, 404, "no worker"),
            (HttpMethod.Delete, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/nobody"), null, 404, null),
            (HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/nobody/pause"), null, 404, null),
            (HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/nobody/traces"), null, 404, null),
            (HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/block"), "{bad", 400, null),
            // Emit
            (HttpMethod.Post, emitUrl, "", 400, "empty"),
            (HttpMethod.Post, emitUrl, "{\"a\":", 400, "not valid JSON"),
            (HttpMethod.Post, emitUrl, "{} {}", 400, "not valid JSON"),
            (HttpMethod.Post, emitUrl, "   ", 400, "empty"),
            (HttpMethod.Post, batchUrl, "[] []", 400, "not valid JSON"),
            (HttpMethod.Post, emitUrl, "'single'", 400, null),
            (HttpMethod.Post, emitUrl, $$"""{"big":"{{new string('x', 262_145)}}"}""", 413, null),
            (HttpMethod.Post, cluster.EmitUrl(
                $"/v1/canvases/{canvas}/workers/bad!name/events"), "1", 400, "Invalid worker name"),
            (HttpMethod.Post, cluster.EmitUrl("/v1/canvases/no-such-canvas/workers/w/events"), "1", 404, null),
            (HttpMethod.Post, batchUrl, "{}", 400, "array"),
            (HttpMethod.Post, batchUrl, "[]", 400, "empty"),
            (HttpMethod.Post, batchUrl, "[1]", 400, "Item 0"),
            (HttpMethod.Post, batchUrl, """[{"event":1}]""", 400, "Item 0"),
            (HttpMethod.Post, batchUrl, """[{"worker":"w"}]""", 400, "\"event\" is missing"),
            (HttpMethod.Post, batchUrl, """[{"worker":"w","event":1},{"worker":"a b","event":1}]""", 400, "Item 1"),
            (HttpMethod.Post, batchUrl, """[{"worker":"w","event":1,"idempotencyKey":7}]""", 400, "idempotencyKey"),
            (HttpMethod.Post, batchUrl, """[{"worker":"w","event":""", 400, "not valid JSON"),
            (HttpMethod.Post, batchUrl, "[" + string.Join(",", Enumerable.Repeat("""{"worker":"w","event":1}""", 1001))
                + "]", 400, "at most 1000"),
            (HttpMethod.Post, batchUrl, $$"""[{"worker":"w","event":"{{new string('x', 262_145)}}"}]""", 413, null),
            // Unknown routes and methods
            (HttpMethod.Get, cluster.ControlUrl("/v1/nothing-here"), null, 404, null),
            (HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers"), "{}", 405, null),
        };
        foreach (var (method, url, body, status, detail) in cases)
        {
            await ExpectAsync(method, url, admin, body, status, detail);
        }

        // A repeated idempotency header value that is too long.
        using var longKey = await cluster.SendAsync(HttpMethod.Post, emitUrl, admin, "1", new string('k', 300));
        await AssertProblemAsync(longKey, 400, "Idempotency-Key");
    }

    [Fact]
    public async Task Code_that_does_not_compile_or_uses_a_forbidden_api_is_refused_with_line_and_column()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var url = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/bad");

        using var broken = await cluster.SendAsync(
            HttpMethod.Put,
            url,
            token,
            new JsonObject { ["code"] = "var x = 1;\nreturn x +;" }.ToJsonString());
        await AssertProblemAsync(broken, 400);
        var errors = JsonNode.Parse(await broken.Content.ReadAsStringAsync())!["errors"]!.AsArray();
        var error = Assert.Single(errors)!;
        Assert.Equal(2, error["line"]!.GetValue<int>());
        Assert.True(error["column"]!.GetValue<int>() > 1);
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));

        using var forbidden = await cluster.SendAsync(HttpMethod.Put, url, token,
            new JsonObject { ["code"] = "return System.IO.File.ReadAllText(\"/etc/passwd\");" }.ToJsonString());
        await AssertProblemAsync(forbidden, 400);
        var refusal = JsonNode.Parse(await forbidden.Content.ReadAsStringAsync())!["errors"]![0]!;
        Assert.Contains("System.IO.File.ReadAllText", refusal["message"]!.GetValue<string>());
        Assert.Equal(1, refusal["line"]!.GetValue<int>());

        // Nothing was deployed.
        await ExpectAsync(HttpMethod.Get, url, token, null, 404);
    }

    [Fact]
    public async Task Canvases_are_created_listed_and_deleted_with_everything_they_own()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("gone");
        await cluster.DeployAsync(canvas, "a", "return 1;", token: token);
        await cluster.DeployAsync(canvas, "b", "return 1;", token: token);

        var listed = (await cluster.JsonAsync(HttpMethod.Get, cluster.ControlUrl("/v1/canvases"), cluster.AdminToken))
            .As<List<Canvas>>();
        Assert.Equal(2, listed.Single(c => c.Name == canvas).Workers);
        Assert.Contains($"workq.worker.{canvas}.a", await cluster.Rabbit.QueuesAsync(cluster.VirtualHost));

        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}"),
            cluster.AdminToken,
            expect: 204);

        await ExpectAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/a/events"),
            cluster.AdminToken,
            "1",
            404);
        // Its token died with it.
        await ExpectAsync(HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/workers"), token, null, 401);
        var queues = await cluster.Rabbit.QueuesAsync(cluster.VirtualHost);
        Assert.DoesNotContain(queues, q => q.Contains(canvas));
        Assert.DoesNotContain(await cluster.Rabbit.ExchangesAsync(cluster.VirtualHost), e => e.Contains(canvas));
        listed = (await cluster.JsonAsync(HttpMethod.Get, cluster.ControlUrl("/v1/canvases"), cluster.AdminToken))
            .As<List<Canvas>>();
        Assert.DoesNotContain(listed, c => c.Name == canvas);
    }

    [Fact]
    public async Task Deleting_a_worker_removes_its_queue_and_its_registry_entry()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "temp", "return 1;", token: token);
        Assert.Contains($"workq.worker.{canvas}.temp", await cluster.Rabbit.QueuesAsync(cluster.VirtualHost));
        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/temp"),
            token,
            expect: 204);
        Assert.DoesNotContain($"workq.worker.{canvas}.temp", await cluster.Rabbit.QueuesAsync(cluster.VirtualHost));
        await ExpectAsync(HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/temp"), token, null, 404);
    }
}
