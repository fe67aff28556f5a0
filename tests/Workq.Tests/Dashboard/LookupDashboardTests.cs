using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Workq.Tests.Dashboard;

/// <summary>
/// The dashboard's event lookup and instances view (lookup.js, instances.js), in a real Chromium against the real
/// services.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class LookupDashboardTests(WorkqCluster cluster, DashboardBrowser browser, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task ScreenshotAsync(DashboardPage dashboard, string name) =>
        output.WriteLine($"screenshot: {await dashboard.ScreenshotAsync(name)}");

    [Fact]
    public async Task A_pasted_event_id_shows_its_trace_and_a_parked_one_shows_where_it_waits()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("lookup");
        await cluster.DeployAsync(
            canvas,
            "calc",
            "Log(\"looked up\");\nreturn new { twice = Event![\"n\"]!.GetValue<int>() * 2 };",
            token: token);
        var id = await cluster.EmitAsync(canvas, "calc", """{"n":4}""", token);
        var parkedId = await cluster.EmitAsync(canvas, "missing", """{"p":1}""", token);
        await cluster.EventuallyAsync(
            () => cluster.TracesAsync(canvas, "calc"),
            t => t.Count == 1,
            Patience,
            "the trace kept");

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync($"#/c/{canvas}");
        var page = dashboard.Page;
        var search = page.GetByRole(AriaRole.Search, new() { Name = "Find an event" });
        await search.GetByLabel("Event id").FillAsync(id.ToString());
        await search.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"#/find/{canvas}/{id}$"));
        var hit = page.Locator(".hit[data-where='trace']");
        await Expect(hit).ToContainTextAsync("Traced by calc");
        var trace = hit.Locator($"details.trace[data-event-id='{id}']");
        await Expect(trace).ToHaveAttributeAsync("open", "");
        await Expect(trace.Locator(".badge")).ToHaveTextAsync("completed");
        await Expect(trace).ToContainTextAsync("looked up");
        await Expect(trace).ToContainTextAsync("\"twice\": 8");
        await Expect(page.Locator(".note")).ToContainTextAsync("Queued and running events are not searched");
        await ScreenshotAsync(dashboard, "9-lookup-trace");

        // The box above the answer looks up the next id; a parked event says it waits for its worker.
        await page.GetByRole(AriaRole.Search, new() { Name = "Find an event" }).GetByLabel("Event id")
            .FillAsync(parkedId.ToString());
        await page.GetByRole(AriaRole.Search, new() { Name = "Find an event" })
            .GetByRole(AriaRole.Button, new() { Name = "Find" })
            .ClickAsync();
        var parked = page.Locator(".hit[data-where='unhandled']");
        await Expect(parked).ToContainTextAsync("there is no worker missing");
        await Expect(parked).ToContainTextAsync("\"p\": 1");
        await Expect(parked.Locator("dl.facts dt")).ToHaveTextAsync(["Enqueued", "Parked"]);
        await Expect(parked.GetByRole(AriaRole.Link, new() { Name = "Create worker" })).ToBeVisibleAsync();

        await page.GotoAsync($"/#/find/{canvas}/{Guid.NewGuid()}");
        await Expect(page.Locator("[data-where='nowhere']")).ToHaveTextAsync("Found nowhere.");
        await Expect(page.Locator(".note")).ToContainTextAsync("traces keep the last 10 runs per worker");
        await ScreenshotAsync(dashboard, "10-lookup-nowhere");

        await page.GotoAsync($"/#/find/{canvas}/not-an-id");
        await Expect(dashboard.Alert).ToContainTextAsync("not an event id");
    }

    [Fact]
    public async Task The_instances_view_lists_each_instance_with_its_consumers_and_prefetch()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("inst");
        await cluster.DeployAsync(canvas, "shown", "return 1;", concurrency: 5, token: token);
        await cluster.EventuallyAsync(async () => (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl("/v1/instances"),
            cluster.AdminToken)).As<List<Workq.Client.WorkerInstance>>(),
            l => l.Any(i => i.Consumers.Any(c => c.Canvas == canvas)), Patience, "a consumer of the canvas reported");

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync("");
        var page = dashboard.Page;
        await page.GetByRole(AriaRole.Link, new() { Name = "Instances", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Worker instances" })).ToBeVisibleAsync();
        var row = page.Locator($"tr[data-consumer='{canvas}/shown']").First;
        await Expect(row.Locator("[data-stat='prefetch']")).ToHaveTextAsync("5");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("consuming");
        await Expect(page.Locator(".instance").First).ToContainTextAsync("every canvas");
        await Expect(page.Locator(".instance").First).ToContainTextAsync("namespaces+seccomp");
        await ScreenshotAsync(dashboard, "11-instances");

        // Paused, the worker's consumers leave every instance.
        await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/shown/pause"),
            token);
        await Expect(page.Locator($"tr[data-consumer='{canvas}/shown']")).ToHaveCountAsync(
            0,
            new() { Timeout = 10_000 });
        dashboard.AssertNoErrors();
    }

    [Fact]
    public async Task A_high_event_shows_its_priority_and_the_worker_page_counts_queued_events_by_priority()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("prio");
        await cluster.DeployAsync(canvas, "calc", "return 1;", token: token);
        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/calc/pause"),
            token);
        var ids = new List<Guid>();
        foreach (var priority in new[] { "high", "high", "normal" })
            ids.Add((await cluster.JsonAsync(HttpMethod.Post,
                cluster.EmitUrl($"/v1/canvases/{canvas}/workers/calc/events?priority={priority}"), token, "1",
                expect: 202)).As<Workq.Client.EmitAccepted>().Id);

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync($"#/c/{canvas}/w/calc");
        var page = dashboard.Page;
        await Expect(page.Locator(".stats [data-stat='queuedByPriority']")).ToHaveTextAsync("2 / 1 / 0",
            new() { Timeout = 15_000 });

        await page.GotoAsync($"/#/find/{canvas}/{ids[0]}");
        await Expect(page.Locator(".event-status [data-priority='high']")).ToHaveTextAsync("high",
            new() { Timeout = 10_000 });
        await page.GotoAsync($"/#/find/{canvas}/{ids[2]}");
        await Expect(page.Locator(".event-status")).ToHaveAttributeAsync("data-status", "queued",
            new() { Timeout = 10_000 });
        await Expect(page.Locator(".event-status [data-priority]")).ToHaveCountAsync(0);
        dashboard.AssertNoErrors();
    }

    [Fact]
    public async Task A_looked_up_event_shows_its_status_and_follows_it_from_scheduled_to_completed()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("status");
        await cluster.DeployAsync(
            canvas,
            "calc",
            "return new { twice = Event![\"n\"]!.GetValue<int>() * 2 };",
            token: token);
        var id = (await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/calc/events?delaySeconds=15"),
            token,
            """{"n":21}""",
            expect: 202)).As<Workq.Client.EmitAccepted>().Id;

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync($"#/c/{canvas}/w/calc");
        var page = dashboard.Page;
        // Not yet in the queue: the worker page counts it as scheduled.
        await Expect(page.Locator(".stats [data-stat='scheduled']")).ToHaveTextAsync("1");
        await Expect(page.Locator(".stats [data-stat='queued']")).ToHaveTextAsync("0");

        await page.GotoAsync($"/#/find/{canvas}/{id}");
        var status = page.Locator(".event-status");
        await Expect(status).ToHaveAttributeAsync("data-status", "scheduled", new() { Timeout = 10_000 });
        await Expect(status).ToContainTextAsync("(following)");
        await Expect(status.Locator("dl.facts dt")).ToHaveTextAsync(
            ["Attempts", "Enqueued", "Runs at", "Started", "Finished"]);
        await ScreenshotAsync(dashboard, "11-event-status-scheduled");

        // Followed without a reload: completed, with its result.
        await Expect(status).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 30_000 });
        await Expect(status).Not.ToContainTextAsync("(following)");
        await Expect(status.Locator("dl.facts")).ToContainTextAsync("\"twice\": 42");

        await page.GotoAsync($"/#/find/{canvas}/{Guid.NewGuid()}");
        await Expect(page.Locator("[data-status='none']")).ToContainTextAsync("No status");
    }

    [Fact]
    public async Task A_canvas_token_sees_the_lookup_but_the_instances_view_is_refused()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("owner");
        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsync(token, canvas);
        var page = dashboard.Page;
        await Expect(page.GetByRole(AriaRole.Search, new() { Name = "Find an event" })).ToBeVisibleAsync();
        await page.GotoAsync("/#/instances");
        await Expect(dashboard.Alert).ToContainTextAsync("403");
    }
}
