using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Workq.Tests.Dashboard;

/// <summary>The dashboard served by control, driven in a real Chromium against the real services.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardTests(WorkqCluster cluster, DashboardBrowser browser, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task ScreenshotAsync(DashboardPage dashboard, string name) =>
        output.WriteLine($"screenshot: {await dashboard.ScreenshotAsync(name)}");

    /// <summary>A new tab signed in as the admin, on a canvas's page (or one below it).</summary>
    private async Task<DashboardPage> OpenAsync(string canvas, string below = "")
    {
        var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync($"#/c/{canvas}{below}");
        return dashboard;
    }

    [Fact]
    public async Task Control_serves_the_page_locally_and_keeps_problem_json_for_the_api()
    {
        using var page = await cluster.Http.GetAsync(cluster.ControlUrl("/"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        // The top bar links the API reference page (OpenApiDocumentTests checks that it is served).
        Assert.Contains("href=\"scalar/v1\"", await page.Content.ReadAsStringAsync());
        foreach (var file in new[] { "/app.js", "/app.css", "/favicon.svg" })
        {
            using var asset = await cluster.Http.GetAsync(cluster.ControlUrl(file));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        }

        using var missing = await cluster.Http.GetAsync(cluster.ControlUrl("/v1/no-such-route"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Signs_in_with_the_admin_token_or_a_canvas_token_kept_in_session_storage()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("signin");
        await using var dashboard = await browser.OpenAsync(cluster);
        var page = dashboard.Page;

        await dashboard.SignInAsync("not-a-token");
        await Expect(dashboard.Alert).ToContainTextAsync("401");

        await dashboard.SignInAsync(cluster.AdminToken);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = canvas })).ToBeVisibleAsync();
        await Expect(page.Locator("#role")).ToHaveTextAsync("admin");
        await ScreenshotAsync(dashboard, "1-canvases");
        Assert.Contains(
            cluster.AdminToken,
            await page.EvaluateAsync<string>("sessionStorage.getItem('workq.session')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("localStorage.length"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await dashboard.SignInAsync(token);
        await Expect(dashboard.Alert).ToContainTextAsync("enter its canvas name");

        await page.GetByLabel("Canvas").FillAsync(canvas);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = canvas, Exact = true })).ToBeVisibleAsync();
        await Expect(page.Locator("#role")).ToHaveTextAsync($"canvas {canvas}");
        // A canvas owner may pause but not block.
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Block" })).ToHaveCountAsync(0);
        dashboard.AssertNoErrors();
    }

    [Fact]
    public async Task The_queued_count_grows_while_paused_and_drains_after_Resume_is_clicked()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("pause");
        await cluster.DeployAsync(canvas, "p", "return 1;", token: token);
        await using var dashboard = await OpenAsync(canvas);
        var page = dashboard.Page;

        var row = page.Locator("tr[data-worker='p']");
        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(row.Locator(".badge")).ToHaveTextAsync("paused");
        // Paused means the consumers are gone; only then can no event slip through before the count is read.
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "p"),
            w => w.Stats.Consumers == 0,
            Patience,
            "no consumers while paused");

        await cluster.EmitBatchAsync(canvas, Enumerable.Range(0, 20).Select(i => ("p", i.ToString())), token);
        await Expect(row.Locator("[data-stat='queued']")).ToHaveTextAsync("20");
        await Expect(row.Locator("[data-stat='processed']")).ToHaveTextAsync("0");
        await ScreenshotAsync(dashboard, "2-canvas-paused");

        await row.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(row.Locator("[data-stat='processed']")).ToHaveTextAsync("20");
        await Expect(row.Locator("[data-stat='queued']")).ToHaveTextAsync("0");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("running");

        // Block asks for a reason, shows it, and Unblock returns the worker to running.
        await row.GetByRole(AriaRole.Button, new() { Name = "Block" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Reason").FillAsync("runaway loop");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Block" }).ClickAsync();
        await Expect(row.Locator(".state")).ToContainTextAsync("runaway loop");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Resume" })).ToBeDisabledAsync();
        await ScreenshotAsync(dashboard, "3-canvas-blocked");
        await row.GetByRole(AriaRole.Button, new() { Name = "Unblock" }).ClickAsync();
        await Expect(row.Locator(".badge")).ToHaveTextAsync("running");

        // Concurrency is edited in place.
        await row.GetByRole(AriaRole.Button, new() { Name = "Edit concurrency of p" }).ClickAsync();
        await dialog.GetByLabel("Concurrency").FillAsync("3");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(row).ToContainTextAsync("3 Edit");
        Assert.Equal(3, (await cluster.WorkerAsync(canvas, "p"))["concurrency"]!.GetValue<int>());
        dashboard.AssertNoErrors();
    }

    [Fact]
    public async Task Code_with_a_compile_error_shows_the_error_at_its_line()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("code");
        await cluster.DeployAsync(canvas, "calc", "return 1;", token: token);
        await using var dashboard = await OpenAsync(canvas, "/w/calc");
        var page = dashboard.Page;

        var code = page.GetByLabel("Handler code");
        await Expect(code).ToHaveValueAsync("return 1;");
        await code.FillAsync("var a = 1;\nvar b = a + ;\nLog($\"b is {b}\");\nreturn b;");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();

        var errors = page.GetByRole(AriaRole.List, new() { Name = "Compile errors" });
        await Expect(errors).ToContainTextAsync("Line 2, column");
        await Expect(page.Locator(".editor .lines div[data-line='2']")).ToHaveClassAsync("error");
        await Expect(page.Locator(".editor .lines div.error")).ToHaveCountAsync(1);
        await Expect(dashboard.Alert).ToContainTextAsync("does not compile");
        await ScreenshotAsync(dashboard, "4-worker-compile-error");
        Assert.Equal(1, (await cluster.WorkerAsync(canvas, "calc"))["version"]!.GetValue<int>());

        await code.FillAsync("var a = 1;\nvar b = a + 1;\nreturn b;");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByText("Deployed version 2")).ToBeVisibleAsync();
        await Expect(errors).ToBeHiddenAsync();
        await Expect(page.Locator(".editor .lines div.error")).ToHaveCountAsync(0);
        dashboard.AssertNoErrors();
    }

    [Fact]
    public async Task Creating_a_worker_from_the_unhandled_list_runs_its_parked_events()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("parked");
        for (var i = 1; i <= 3; i++) await cluster.EmitAsync(canvas, "later", $$"""{"i":{{i}}}""", token);
        await using var dashboard = await OpenAsync(canvas);
        var page = dashboard.Page;

        var parked = page.GetByRole(AriaRole.Table, new() { Name = "Unhandled events" })
            .Locator("tr[data-worker='later']");
        await Expect(parked.Locator("td.num")).ToHaveTextAsync("3");
        await Expect(page.GetByText("Crons unavailable").Or(page.GetByRole(AriaRole.Table, new() { Name = "Crons" }))
            .Or(page.GetByText("No crons."))).ToBeVisibleAsync();
        await ScreenshotAsync(dashboard, "5-canvas-unhandled");

        await parked.GetByRole(AriaRole.Link, new() { Name = "Create worker" }).ClickAsync();
        await Expect(page.GetByLabel("Worker name")).ToHaveValueAsync("later");
        await Expect(page.GetByText("3 parked event(s) for later")).ToBeVisibleAsync();
        await page.GetByLabel("Handler code")
            .FillAsync("Log(\"parked run\");\nreturn Event![\"i\"]!.GetValue<int>() * 10;");
        await ScreenshotAsync(dashboard, "6-new-worker");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create worker" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "later" })).ToBeVisibleAsync();
        await Expect(page.Locator(".stats [data-stat='processed']")).ToHaveTextAsync("3");
        await Expect(page.Locator("details.trace")).ToHaveCountAsync(3);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Breadcrumb" })
            .GetByRole(AriaRole.Link, new() { Name = canvas })
            .ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Unhandled events" })).ToContainTextAsync(
            "Nothing unhandled.");
        await Expect(page.Locator("tr[data-worker='later'] [data-stat='processed']")).ToHaveTextAsync("3");
        dashboard.AssertNoErrors();
    }

    [Fact]
    public async Task A_trace_opens_with_its_logs_and_result_and_links_to_the_emitted_child()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("trace");
        await cluster.DeployAsync(canvas, "child", "Log(\"child ran\");\nreturn \"ok\";", token: token);
        await cluster.DeployAsync(
            canvas,
            "parent",
            "Log($\"parent got {Event![\"n\"]}\");\nawait Emit(\"child\", new { from = \"parent\" });\n"
            + "return new { done = true };",
            token: token);
        await cluster.EmitAsync(canvas, "parent", """{"n":7}""", token);
        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "parent"),
            t => t.Count == 1,
            Patience,
            "the parent's trace");
        var traceId = traces[0].TraceId;
        Assert.NotNull(traceId);
        var childId = traces[0].Emitted[0].Id.ToString();

        await using var dashboard = await OpenAsync(canvas, "/w/parent");
        var page = dashboard.Page;
        var trace = page.Locator("details.trace").First;
        await trace.Locator("summary").ClickAsync();
        await Expect(trace).ToContainTextAsync("parent got 7");
        await Expect(trace).ToContainTextAsync("\"done\": true");
        await Expect(trace).ToContainTextAsync(traceId);
        await Expect(trace.Locator(".badge")).ToHaveTextAsync("completed");
        await Expect(page.GetByText("Dead letters unavailable").Or(page.GetByText("No dead letters.")))
            .ToBeVisibleAsync();
        await ScreenshotAsync(dashboard, "7-worker-trace");

        await trace.GetByRole(AriaRole.Link, new() { Name = "child" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(
            new System.Text.RegularExpressions.Regex($"#/c/{canvas}/w/child/t/{childId}$"));
        var childTrace = page.Locator($"details.trace[data-event-id='{childId}']");
        await Expect(childTrace).ToHaveAttributeAsync("open", "");
        await Expect(childTrace).ToContainTextAsync("child ran");
        await ScreenshotAsync(dashboard, "8-child-trace");
        dashboard.AssertNoErrors();
    }
}
