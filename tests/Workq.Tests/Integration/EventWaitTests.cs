namespace Workq.Tests.Integration;

/// <summary>
/// Many <c>?wait</c> long-polls at once (issue 25): each answers 200 or 404, never a 5xx; past WORKQ_MAX_EVENT_WAITS a
/// 429.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class EventWaitTests(WorkqCluster cluster)
{
    [Fact]
    public async Task Five_hundred_concurrent_waits_all_answer_200_or_404()
    {
        const int Waits = 500, Events = 50;
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(
            canvas,
            "slow",
            "await Task.Delay(1500, CancellationToken); return Event;",
            concurrency: Events,
            token: token);
        var ids = await cluster.EmitBatchAsync(
            canvas,
            Enumerable.Range(0, Events).Select(n => ("slow", $"{n}")),
            token);

        // 450 wait for events that finish while they wait; 50 for ids that never were, which answer 404 once their wait
        // runs out.
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Waits };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var answers = await Task.WhenAll(Enumerable.Range(0, Waits).Select(async n =>
        {
            var (id, wait) = n < Waits - 50 ? (ids[n % Events], 15) : (Guid.CreateVersion7(), 3);
            using var request = new HttpRequestMessage(
                HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}?wait={wait}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, n < Waits - 50, await response.Content.ReadAsStringAsync());
        }));

        var wrong = answers.Where(a => a.Item1 != (a.Item2 ? 200 : 404)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {Waits} waits answered otherwise: " +
            string.Join("; ", wrong.GroupBy(w => w.Item1).Select(g => $"{g.Key}×{g.Count()} ({g.First().Item3})")));
        Assert.All(
            answers.Where(a => a.Item2),
            a => Assert.Equal("completed", a.Item3.As<Workq.Client.EventStatus>().Status));
    }

    [Fact]
    public async Task A_wait_past_the_limit_is_answered_429_with_retry_after_and_waits_below_it_are_not()
    {
        // The canvas first: a control instance started after it knows it from the start.
        var (canvas, token) = await cluster.CreateCanvasAsync();
        var environment = cluster.ServiceEnvironment;
        environment["WORKQ_MAX_EVENT_WAITS"] = "3";
        await using var control = ServiceProcess.Start("Control", "control-waits", environment, cluster.LogDirectory);
        await control.WaitReadyAsync(cluster.Http, TimeSpan.FromSeconds(90));
        Uri Url(int wait) => new(control.Url, $"v1/canvases/{canvas}/events/{Guid.CreateVersion7()}?wait={wait}");

        // A first request pays for the new instance's start (its canvases, its connections), which a waiter's place
        // must not.
        using (var first = await cluster.SendAsync(HttpMethod.Get, Url(0), token)) Assert.Equal(
            HttpStatusCode.NotFound,
            first.StatusCode);
        // Ten at once for ids that never were: three take the places and wait their 6 seconds out, the other seven are
        // refused at once.
        var waits = Enumerable.Range(0, 10).Select(async _ =>
        {
            var clock = Stopwatch.StartNew();
            using var response = await cluster.SendAsync(HttpMethod.Get, Url(6), token);
            return (response.StatusCode, clock.Elapsed, response.Headers.RetryAfter?.Delta, response.Content.Headers
                .ContentType?
                .MediaType,
                Body: await response.Content.ReadAsStringAsync());
        }).ToList();
        var firstRefusal = await await Task.WhenAny(waits);
        Assert.Equal(HttpStatusCode.TooManyRequests, firstRefusal.StatusCode);
        // Without a wait it is an ordinary read, however many wait.
        using (var now = await cluster.SendAsync(HttpMethod.Get, Url(0), token)) Assert.Equal(
            HttpStatusCode.NotFound,
            now.StatusCode);

        var answers = await Task.WhenAll(waits);
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(7, refused.Count);
        Assert.All(refused, r =>
        {
            Assert.Equal("application/problem+json", r.MediaType);
            Assert.Contains("WORKQ_MAX_EVENT_WAITS", r.Body);
            Assert.True(r.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {r.Delta}");
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(5), $"refused after {r.Elapsed}");
        });
        Assert.All(answers.Except(refused), held =>
        {
            Assert.Equal(HttpStatusCode.NotFound, held.StatusCode);
            Assert.True(held.Elapsed >= TimeSpan.FromSeconds(5.5), $"a held wait answered after {held.Elapsed}");
        });
        // The places are free again.
        using var after = await cluster.SendAsync(HttpMethod.Get, Url(1), token);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }
}
