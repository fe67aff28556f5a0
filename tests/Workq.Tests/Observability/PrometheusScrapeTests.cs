namespace Workq.Tests.Observability;

/// <summary>
/// /metrics: every service serves its instruments for Prometheus, to the admin token only (the labels name every
/// canvas).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PrometheusScrapeTests(WorkqCluster cluster)
{
    private async Task<(int Status, string Body)> ScrapeAsync(ServiceProcess service, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(service.Url, "metrics"));
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await cluster.Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_scrape_after_an_emit_finds_the_workq_instruments_on_the_emitter_and_the_worker()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("prom");
        await cluster.DeployAsync(canvas, "w", "return null;", token: token);
        var id = await cluster.EmitAsync(canvas, "w", "1", token);
        await cluster.TraceOfAsync(canvas, "w", id, TimeSpan.FromSeconds(30));

        var emitter = await cluster.EventuallyAsync(() => ScrapeAsync(cluster.Emitter, cluster.AdminToken),
            s => s.Status == 200 && s.Body.Contains("workq_emit_requests", StringComparison.Ordinal), TimeSpan
                .FromSeconds(30), "the emitter's emit counter");
        Assert.Contains("# TYPE", emitter.Body);

        // The run was on one of the instances: its processed counter carries the canvas as a label.
        var scraped = await cluster.EventuallyAsync(async () =>
            {
                foreach (var worker in cluster.Workers.Where(w => !w.HasExited))
                    if (await ScrapeAsync(worker, cluster.AdminToken) is { Status: 200 } s
                        && s.Body.Contains($"workq_canvas=\"{canvas}\"", StringComparison.Ordinal)) return s;
                return (Status: 0, Body: "");
            },
            s => s.Status == 200, TimeSpan.FromSeconds(30), "a worker instance's processed counter for the canvas");
        Assert.Contains("workq_events_processed", scraped.Body);
        // The standard instrumentation is there too: the runtime's and ASP.NET Core's own metrics.
        Assert.Matches("(^|\n)(process_runtime_)?dotnet_gc_", scraped.Body);
        Assert.Contains("http_server_request_duration", scraped.Body);
    }

    [Fact]
    public async Task Without_the_admin_token_a_scrape_is_refused()
    {
        var (_, canvasToken) = await cluster.CreateCanvasAsync("prom");
        Assert.Equal(401, (await ScrapeAsync(cluster.Control, null)).Status);
        Assert.Equal(403, (await ScrapeAsync(cluster.Emitter, canvasToken)).Status);
    }
}
