using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Workq.Tests.Dashboard;

/// <summary>
/// The metrics charts after a known load in two distinct minutes: what they plot is what the API answers.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class MetricsDashboardTests(WorkqCluster cluster, DashboardBrowser browser, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    // Not UTC, so the screenshots and the checks show local time beside UTC.
    private const string Zone = "Europe/Berlin";

    private async Task<DashboardPage> OpenAsync(string hash)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = cluster.Control.Url.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            TimezoneId = Zone,
        });
        context.SetDefaultTimeout(30_000);
        var dashboard = new DashboardPage(context, await context.NewPageAsync(), cluster);
        await dashboard.SignInAsAdminAsync(hash);
        return dashboard;
    }

    private async Task<IReadOnlyList<MetricsPoint>> ApiPointsAsync(string path, string query) =>
        (await cluster.JsonAsync(HttpMethod.Get, cluster.ControlUrl($"{path}?{query}"), cluster.AdminToken))
            .As<MetricsAnswer>().Points;

    private static async Task<JsonObject?> PlottedAsync(IPage page, string chart) =>
        await page.Locator($"[data-chart='{chart}']").GetAttributeAsync("data-plotted") is { } json
            ? JsonNode.Parse(json)!.AsObject()
            : null;

    /// <summary>
    /// Waits until the throughput chart plots <paramref name="total"/> runs over at least <paramref name="steps"/>
    /// steps, then checks every plotted value against the API's points over the same steps.
    /// </summary>
    private async Task<JsonObject> PlotsTheApiAsync(IPage page, string path, int step, long total, int steps)
    {
        var plotted = await cluster.EventuallyAsync(() => PlottedAsync(page, "throughput"),
            p => p?["step"]!.GetValue<int>() == step && p["x"]!.AsArray().Count >= steps
                && p["series"]!["processed"]!.AsArray()
                    .Sum(v => v?.GetValue<long>() ?? 0) == total, Patience, $"{total} processed plotted");
        var x = plotted!["x"]!.AsArray().Select(v => v!.GetValue<long>()).ToList();
        string Iso(long seconds) => Uri.EscapeDataString(DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("O"));
        var points = await ApiPointsAsync(path, $"step={step}&from={Iso(x[0])}&to={Iso(x[^1])}");
        Assert.Equal(x, points.Select(p => p.At.ToUnixTimeSeconds()));

        // Each chart's series, named as the chart names them, beside the API point's field it must plot.
        foreach (var (chart, fields) in new (string, (string, Func<MetricsPoint, double?>)[])[]
        {
            ("throughput", [("processed", p => p.Processed), ("emitted", p => p.Emitted)]),
            ("failures", [
                ("failed", p => p.Failed), ("timedOut", p => p.TimedOut), ("deadLettered", p => p.DeadLettered)]),
            ("queueWait", [
                ("queueWaitMs.p50", p => p.QueueWaitMs.P50),
                ("queueWaitMs.p95", p => p.QueueWaitMs.P95),
                ("queueWaitMs.p99", p => p.QueueWaitMs.P99)]),
            ("duration", [
                ("durationMs.p50", p => p.DurationMs.P50),
                ("durationMs.p95", p => p.DurationMs.P95),
                ("durationMs.p99", p => p.DurationMs.P99)]),
        })
        {
            var series = (await PlottedAsync(page, chart))!["series"]!;
            foreach (var (field, value) in fields)
            {
                var drawn = series[field]!.AsArray();
                for (var i = 0; i < points.Count; i++)
                {
                    var expected = value(points[i]);
                    if (expected is null) Assert.Null(drawn[i]);
                    else Assert.Equal(expected.Value, drawn[i]!.GetValue<double>(), 3);
                }
            }
        }
        return plotted;
    }

    [Fact]
    public async Task The_charts_plot_the_API_points_of_a_known_load_for_a_worker_and_its_canvas()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("charts");
        await cluster.DeployAsync(canvas, "steady", "await Emit(\"sink\", 1); return null;", token: token);
        await cluster.DeployAsync(canvas, "sink", "return null;", token: token);
        await cluster.DeployAsync(canvas, "bad", "throw new InvalidOperationException(\"no\");", token: token);
        var canvasPath = $"/v1/canvases/{canvas}/metrics";
        var range = $"from={Uri.EscapeDataString(DateTime.UtcNow.AddMinutes(-5).ToString("O"))}"
            + $"&to={Uri.EscapeDataString(DateTime.UtcNow.AddMinutes(5).ToString("O"))}";

        // Two rates in two distinct minutes: the second load starts only after the first has run and the minute has
        // rolled.
        await cluster.EmitBatchAsync(
            canvas,
            Enumerable.Range(0, 6).Select(i => ("steady", i.ToString())).Concat([("bad", "0"), ("bad", "1")]),
            token);
        await cluster.EventuallyAsync(
            () => ApiPointsAsync(canvasPath, range),
            p => p.Sum(point => point.Processed) == 14,
            Patience,
            "the first load");
        var firstMinute = DateTime.UtcNow.Minute;
        await cluster.EventuallyAsync(
            () => Task.FromResult(DateTime.UtcNow.Minute),
            m => m != firstMinute,
            TimeSpan.FromSeconds(70),
            "the next minute");
        await cluster.EmitBatchAsync(
            canvas,
            Enumerable.Range(0, 9).Select(i => ("steady", i.ToString())).Append(("bad", "2")),
            token);
        var all = await cluster.EventuallyAsync(
            () => ApiPointsAsync(canvasPath, range),
            p => p.Sum(point => point.Processed) == 33,
            Patience,
            "the second load");
        Assert.True(all.Count(p => p.Processed > 0) >= 2, "the two loads fell in two minutes");

        await using var dashboard = await OpenAsync($"#/c/{canvas}/w/steady");
        var page = dashboard.Page;
        var metrics = page.GetByRole(AriaRole.Region, new() { Name = "Metrics" });
        await PlotsTheApiAsync(page, $"/v1/canvases/{canvas}/workers/steady/metrics", 60, 15, steps: 60);
        var plotted = (await PlottedAsync(page, "throughput"))!["series"]!["processed"]!.AsArray()
            .Select(v => v!.GetValue<long>())
            .Where(v => v > 0)
            .ToList();
        output.WriteLine($"steady per minute: {string.Join(", ", plotted)}");

        // Units and the viewer's zone are said in text too (the axes are drawn on a canvas); hovering shows the values,
        // the time in the zone and in UTC.
        await Expect(metrics.Locator("figcaption").First).ToHaveTextAsync("Throughput (events / min)");
        await Expect(metrics.Locator("figure:has([data-chart='queueWait']) figcaption")).ToHaveTextAsync(
            "Queue wait (ms)");
        await Expect(metrics.Locator(".metrics-zone")).ToContainTextAsync($"Times in {Zone} (UTC+");
        var over = metrics.Locator("[data-chart='throughput'] .u-over");
        await over.ScrollIntoViewIfNeededAsync();
        var box = (await over.BoundingBoxAsync())!;
        await over.HoverAsync(new() { Position = new() { X = box.Width - 3, Y = box.Height / 2 } });
        await Expect(metrics.Locator("[data-chart='throughput'] .u-legend")).ToContainTextAsync("UTC)");
        await Expect(metrics.Locator("[data-chart='throughput'] .u-legend")).ToContainTextAsync("events / min");
        output.WriteLine($"screenshot: {await dashboard.ScreenshotAsync("metrics-1-worker-hour")}");
        // The card alone, as the README shows it.
        var card = Path.Combine(DashboardBrowser.ArtifactDirectory, "metrics-4-worker-card.png");
        await metrics.ScreenshotAsync(new() { Path = card });
        output.WriteLine($"screenshot: {card}");

        await metrics.GetByRole(AriaRole.Button, new() { Name = "Last week" }).ClickAsync();
        await PlotsTheApiAsync(page, $"/v1/canvases/{canvas}/workers/steady/metrics", 3600, 15, steps: 168);
        await Expect(metrics.Locator("figcaption").First).ToHaveTextAsync("Throughput (events / hour)");
        output.WriteLine($"screenshot: {await dashboard.ScreenshotAsync("metrics-2-worker-week")}");

        await page.GetByRole(AriaRole.Navigation, new() { Name = "Breadcrumb" })
            .GetByRole(AriaRole.Link, new() { Name = canvas })
            .ClickAsync();
        var whole = await PlotsTheApiAsync(page, canvasPath, 60, 33, steps: 60);
        Assert.Equal(
            3,
            (await PlottedAsync(page, "failures"))!["series"]!["failed"]!.AsArray().Sum(v => v!.GetValue<long>()));
        Assert.Equal(15, whole["series"]!["emitted"]!.AsArray().Sum(v => v!.GetValue<long>()));
        await metrics.GetByRole(AriaRole.Button, new() { Name = "Last day" }).ClickAsync();
        await Expect(metrics.GetByRole(AriaRole.Button, new() { Name = "Last day" })).ToHaveAttributeAsync(
            "aria-pressed",
            "true");
        await PlotsTheApiAsync(page, canvasPath, 60, 33, steps: 1440);
        output.WriteLine($"screenshot: {await dashboard.ScreenshotAsync("metrics-3-canvas-day")}");
        dashboard.AssertNoErrors();
    }
}
