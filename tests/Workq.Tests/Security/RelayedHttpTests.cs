using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Trace = Workq.Client.Trace;

namespace Workq.Tests.Security;

/// <summary>
/// A handler's <c>Http</c> when its runner has no network: every request goes over the runner channel to the worker
/// service, which makes it with the canvas's own connection pool and the egress policy. The handler's API and its
/// exceptions are those of an ordinary HttpClient; the caps hold whatever the handler does.
/// </summary>
[Collection(HostileTenantCollection.Name)]
public sealed class RelayedHttpTests(HostileTenant tenants)
{
    private WorkqCluster Cluster => tenants.Cluster;

    [Fact]
    public async Task Get_and_post_carry_their_bodies_headers_and_status_both_ways()
    {
        var (app, url) = await LocalServer.StartAsync(app =>
        {
            app.MapGet("/echo", (HttpRequest request) => Results.Text($"tag={request.Headers["X-Tag"]}", "text/plain"));
            app.MapPost("/echo", async (HttpRequest request, HttpResponse response) =>
            {
                using var reader = new StreamReader(request.Body);
                response.Headers["X-Seen"] = request.ContentType;
                return Results.Text((await reader.ReadToEndAsync()).ToUpperInvariant(), "text/plain", statusCode: 201);
            });
        });
        await using var _ = app;

        var trace = await tenants.RunAttackAsync("http-echo", $$"""
            var get = new HttpRequestMessage(HttpMethod.Get, "{{url}}echo");
            get.Headers.Add("X-Tag", "blue");
            var got = await Http.SendAsync(get, CancellationToken);
            var hello = new StringContent("hello relay", System.Text.Encoding.UTF8, "text/x-test");
            var posted = await Http.PostAsync("{{url}}echo", hello, CancellationToken);
            var missing = await Http.GetAsync("{{url}}nothing-here", CancellationToken);
            return new
            {
                get = await got.Content.ReadAsStringAsync(CancellationToken),
                post = await posted.Content.ReadAsStringAsync(CancellationToken),
                status = (int)posted.StatusCode,
                seen = string.Join(",", posted.Headers.GetValues("X-Seen")),
                missing = (int)missing.StatusCode,
            };
            """);

        Assert.Equal("completed", trace["status"]!.GetValue<string>());
        var result = trace["result"]!;
        Assert.Equal("tag=blue", result["get"]!.GetValue<string>());
        Assert.Equal("HELLO RELAY", result["post"]!.GetValue<string>());
        Assert.Equal(201, result["status"]!.GetValue<int>());
        Assert.StartsWith("text/x-test", result["seen"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(404, result["missing"]!.GetValue<int>());
        await tenants.AssertVictimUnharmedAsync();
    }

    [Fact]
    public async Task A_redirect_within_what_is_allowed_is_followed_and_the_final_address_is_the_requests()
    {
        var (app, url) = await LocalServer.StartAsync(app =>
        {
            app.MapGet("/from", () => Results.Redirect("/to"));
            app.MapGet("/to", () => Results.Text("arrived", "text/plain"));
        });
        await using var _ = app;

        var trace = await tenants.RunAttackAsync("http-redirect", $$"""
            var response = await Http.GetAsync("{{url}}from", CancellationToken);
            return new
            {
                body = await response.Content.ReadAsStringAsync(CancellationToken),
                at = response.RequestMessage!.RequestUri!.AbsolutePath,
            };
            """);

        var landed = trace.As<Trace>().Result.As<RedirectLanding>();
        Assert.Equal("arrived", landed.Body);
        Assert.Equal("/to", landed.At);
    }

    [Fact]
    public async Task A_response_over_the_cap_fails_the_read_naming_the_cap_and_a_request_body_over_it_is_never_sent()
    {
        var bodies = 0;
        var (app, url) = await LocalServer.StartAsync(app =>
        {
            // Chunked, so the size shows only while the body streams: 11 MiB in 64 KiB pieces.
            app.MapGet("/big", async (HttpResponse response) =>
            {
                var piece = new byte[64 * 1024];
                for (var i = 0; i < 176; i++) await response.Body.WriteAsync(piece);
            });
            app.MapPost("/big", async (HttpRequest request) =>
            {
                Interlocked.Increment(ref bodies);
                await request.Body.CopyToAsync(Stream.Null);
                return Results.Ok();
            });
        });
        await using var _ = app;

        var trace = await tenants.RunAttackAsync("http-big", $$"""
            var outcomes = new List<string>();
            try { outcomes.Add($"read {(await Http.GetByteArrayAsync("{{url}}big", CancellationToken)).Length}"); }
            catch (HttpRequestException e) { outcomes.Add(e.Message); }
            try
            {
                await Http.PostAsync("{{url}}big", new ByteArrayContent(new byte[11 * 1024 * 1024]), CancellationToken);
                outcomes.Add("posted");
            }
            catch (HttpRequestException e) { outcomes.Add(e.Message); }
            return outcomes;
            """);

        var outcomes = trace["result"]!.AsArray().Select(o => o!.GetValue<string>()).ToList();
        Assert.Equal(2, outcomes.Count);
        Assert.All(outcomes, o => Assert.Contains("WORKQ_HANDLER_HTTP_MAX_BYTES", o, StringComparison.Ordinal));
        Assert.Equal(0, bodies);
        await tenants.AssertVictimUnharmedAsync();
    }

    [Fact]
    public async Task A_slow_server_is_cancelled_by_the_runs_time_out_and_the_server_sees_the_request_go()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (app, url) = await LocalServer.StartAsync(app => app.MapGet("/slow", async (HttpContext context) =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(60), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                aborted.TrySetResult();
            }
        }));
        await using var _ = app;

        var clock = Stopwatch.StartNew();
        var trace = await tenants.RunAttackAsync(
            "http-slow",
            $$"""return await Http.GetStringAsync("{{url}}slow", CancellationToken);""");

        Assert.Equal("timedOut", trace["status"]!.GetValue<string>());
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(
            clock.Elapsed < WorkqCluster.HandlerTimeout + TimeSpan.FromSeconds(20),
            $"the run took {clock.Elapsed}");
    }

    [Fact]
    public async Task Two_canvases_never_share_a_connection_or_a_cookie()
    {
        var connections = new ConcurrentQueue<(string Caller, string Connection, string? Cookie)>();
        var (app, url) = await LocalServer.StartAsync(app => app
            .MapGet("/who/{caller}", (string caller, HttpContext context) =>
                {
                    connections.Enqueue(
                        (caller, context.Connection.Id, context.Request.Headers.Cookie.FirstOrDefault()));
                    context.Response.Headers.SetCookie = $"session={caller}; Path=/";
                    return Results.Ok();
                }));
        await using var _ = app;
        var (other, otherToken) = await Cluster.CreateCanvasAsync("neighbour");
        string Code(string caller) => $$"""
            for (var i = 0; i < 3; i++) (await Http.GetAsync("{{url}}who/{{caller}}", CancellationToken)).Dispose();
            return 1;
            """;

        var attacker = await tenants.RunAttackAsync("http-who", Code("attacker"));
        await Cluster.DeployAsync(other, "who", Code("neighbour"), token: otherToken);
        await Cluster.TraceOfAsync(
            other,
            "who",
            await Cluster.EmitAsync(other, "who", "null", otherToken),
            TimeSpan.FromSeconds(60));
        var again = await Cluster.EmitAsync(tenants.Attacker, "http-who", "null", tenants.AttackerToken);
        await Cluster.TraceOfAsync(tenants.Attacker, "http-who", again, TimeSpan.FromSeconds(60));
        Assert.Equal("completed", attacker["status"]!.GetValue<string>());

        var seen = connections.ToList();
        Assert.Equal(9, seen.Count);
        var attackerConnections = seen.Where(s => s.Caller == "attacker").Select(s => s.Connection).ToHashSet();
        var neighbourConnections = seen.Where(s => s.Caller == "neighbour").Select(s => s.Connection).ToHashSet();
        Assert.Empty(attackerConnections.Intersect(neighbourConnections));
        // Each canvas's pool keeps its connection alive: the attacker's later run reused its own.
        Assert.Single(attackerConnections);
        Assert.All(seen, s => Assert.Null(s.Cookie));
    }
}
