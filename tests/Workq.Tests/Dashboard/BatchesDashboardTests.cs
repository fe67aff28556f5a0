using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Workq.Tests.Dashboard;

/// <summary>
/// A canvas's batches (batches.js): the list on the canvas page with each batch's progress, its filter and pages, and a
/// batch's page with its counts, callbacks and Cancel.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class BatchesDashboardTests(WorkqCluster cluster, DashboardBrowser browser, ITestOutputHelper output)
{
    // Tenant text that would be an element (and, were script allowed, run) if the page inserted it as HTML.
    private const string Hostile = "<img src=x onerror=alert(1)>";
    // --bad in app.css: the failed part of a bar.
    private const string Red = "rgb(180, 35, 24)";

    private async Task ScreenshotAsync(DashboardPage dashboard, string name) =>
        output.WriteLine($"screenshot: {await dashboard.ScreenshotAsync(name)}");

    private async Task<(string Canvas, string Token)> CanvasAsync()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("batchui");
        await cluster.DeployAsync(canvas, "square",
            "var n = Event![\"n\"]!.GetValue<int>();\nif (n < 0) throw new InvalidOperationException(\"negative\");\n"
            + "return n * n;", token: token);
        await cluster.DeployAsync(canvas, "report", "return Event;", token: token);
        return (canvas, token);
    }

    private static JsonObject Square(int n, int? delaySeconds = null)
    {
        var item = new JsonObject { ["worker"] = "square", ["event"] = new JsonObject { ["n"] = n } };
        if (delaySeconds is not null) item["delaySeconds"] = delaySeconds;
        return item;
    }

    private async Task<Guid> CreateAsync(string canvas, string token, JsonObject body) =>
        (await cluster.JsonAsync(HttpMethod.Post, cluster.EmitUrl($"/v1/canvases/{canvas}/batches"), token,
            body.ToJsonString(), expect: 202))!["batchId"]!.GetValue<Guid>();

    private async Task<JsonNode> BatchAsync(string canvas, Guid batch, string token, int wait = 0) =>
        (await cluster.JsonAsync(HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/batches/{batch}?wait={wait}"), token))!;

    [Fact]
    public async Task A_finished_batch_shows_its_progress_counts_and_callbacks_with_tenant_text_as_text()
    {
        var (canvas, token) = await CanvasAsync();
        var item = Square(-1);
        item["idempotencyKey"] = Hostile;
        var batch = await CreateAsync(canvas, token, new JsonObject
        {
            ["events"] = new JsonArray(Square(1), Square(2), Square(3), item),
            ["onComplete"] = new JsonObject { ["worker"] = "report", ["event"] = Hostile },
            ["onSuccess"] = new JsonObject { ["worker"] = "report", ["event"] = "all good" },
            ["idempotencyKey"] = Hostile,
        });
        var done = await BatchAsync(canvas, batch, token, wait: 30);
        Assert.True(done["state"]!.GetValue<string>() == "completed", $"not finished within the wait: {done}");
        var onComplete = done["onComplete"]!["eventId"]!.GetValue<Guid>();

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync($"#/c/{canvas}");
        var page = dashboard.Page;
        var row = page.GetByRole(AriaRole.Table, new() { Name = "Batches" }).Locator($"tr[data-batch='{batch}']");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("completed");
        await Expect(row.Locator("[data-stat='done']")).ToHaveTextAsync("4 / 4");
        await Expect(row.Locator("[data-stat='failed']")).ToHaveTextAsync("1");
        await Expect(row.Locator("[data-stat='cancelled']")).ToHaveTextAsync("0");
        // A quarter of the bar is the failed event's, in red; three quarters the completed ones'.
        var bar = row.GetByRole(AriaRole.Progressbar);
        await Expect(bar).ToHaveAttributeAsync("aria-valuenow", "4");
        await Expect(bar).ToHaveAttributeAsync("aria-valuemax", "4");
        var failed = bar.Locator("[data-part='failed']");
        await Expect(failed).ToHaveAttributeAsync("data-count", "1");
        Assert.Equal(Red, await failed.EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor"));
        var barWidth = (await bar.BoundingBoxAsync())!.Width;
        Assert.InRange((await failed.BoundingBoxAsync())!.Width, barWidth * 0.2, barWidth * 0.3);
        Assert.InRange((await bar.Locator("[data-part='completed']").BoundingBoxAsync())!.Width,
            barWidth * 0.7, barWidth * 0.8);
        await ScreenshotAsync(dashboard, "12-canvas-batches");

        await row.GetByRole(AriaRole.Link, new() { Name = batch.ToString()[..8] }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"#/batch/{canvas}/{batch}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Batch {batch.ToString()[..8]}" }))
            .ToHaveTextAsync($"Batch {batch.ToString()[..8]} completed");
        foreach (var (stat, value) in new[]
        {
            ("total", "4"), ("pending", "0"), ("done", "4"), ("completed", "3"), ("failed", "1"), ("timedOut", "0"),
            ("deadLettered", "0"), ("cancelled", "0"),
        })
            await Expect(page.Locator($".stats [data-stat='{stat}']")).ToHaveTextAsync(value);
        await Expect(page.Locator("[data-time='createdAt']")).Not.ToHaveTextAsync("—");
        await Expect(page.Locator("[data-time='finishedAt']")).Not.ToHaveTextAsync("—");
        await Expect(page.Locator("[data-time='cancelledAt']")).ToHaveTextAsync("—");
        // A finished batch is past cancelling.
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel batch" })).ToBeHiddenAsync();

        // onComplete ran (its result is the hostile text, shown as text); onSuccess did not fire, one event failed.
        var callback = page.Locator("tr[data-callback='onComplete']");
        await Expect(callback.Locator("[data-status]")).ToHaveAttributeAsync("data-status", "completed");
        await Expect(callback.GetByRole(AriaRole.Link, new() { Name = "report" })).ToBeVisibleAsync();
        await Expect(callback).ToContainTextAsync(Hostile);
        await Expect(page.Locator("tr[data-callback='onSuccess']")).ToContainTextAsync("not fired");
        await Expect(page.Locator("img[src='x']")).ToHaveCountAsync(0);
        await ScreenshotAsync(dashboard, "13-batch");

        // The callback's event id opens the event lookup, which shows its status.
        await callback.GetByRole(AriaRole.Link, new() { Name = onComplete.ToString() }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"#/find/{canvas}/{onComplete}$"));
        await Expect(page.Locator(".event-status")).ToHaveAttributeAsync("data-status", "completed");
        await Expect(page.Locator(".event-status")).ToContainTextAsync(Hostile);
        await Expect(page.Locator("img[src='x']")).ToHaveCountAsync(0);
        dashboard.AssertNoErrors();
    }

    [Fact]
    public async Task The_list_filters_by_state_and_pages_with_the_cursor()
    {
        var (canvas, token) = await CanvasAsync();
        var finished = await CreateAsync(canvas, token, new JsonObject { ["events"] = new JsonArray(Square(2)) });
        await BatchAsync(canvas, finished, token, wait: 30);
        // A page holds 20: 20 open (empty) batches, newer, fill the first.
        for (var i = 0; i < 20; i++)
            await CreateAsync(canvas, token, new JsonObject { ["events"] = new JsonArray(), ["open"] = true });

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync($"#/c/{canvas}");
        var page = dashboard.Page;
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Batches" }).Locator("tbody tr");
        await Expect(page.GetByText("Page 1: 20 batch(es)")).ToBeVisibleAsync();
        await Expect(rows.Locator(".badge.open")).ToHaveCountAsync(20);
        await Expect(rows.Locator("[data-stat='done']").First).ToHaveTextAsync("0 / 0");

        await page.GetByRole(AriaRole.Button, new() { Name = "Next page" }).ClickAsync();
        await Expect(page.GetByText("Page 2: 1 batch(es)")).ToBeVisibleAsync();
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(page.Locator($"tr[data-batch='{finished}'] [data-stat='done']")).ToHaveTextAsync("1 / 1");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Next page" })).ToBeDisabledAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Previous page" }).ClickAsync();
        await Expect(page.GetByText("Page 1: 20 batch(es)")).ToBeVisibleAsync();

        // A filter starts at its first page.
        await page.GetByLabel("Batch state").SelectOptionAsync("completed");
        await Expect(page.GetByText("Page 1: 1 batch(es)")).ToBeVisibleAsync();
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(page.Locator($"tr[data-batch='{finished}']")).ToBeVisibleAsync();
        await page.GetByLabel("Batch state").SelectOptionAsync("running");
        await Expect(page.GetByText("No running batches.")).ToBeVisibleAsync();
        await page.GetByLabel("Batch state").SelectOptionAsync("open");
        await Expect(page.GetByText("Page 1: 20 batch(es)")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Next page" })).ToBeDisabledAsync();

        // An unknown batch's page says so in place of the page.
        await page.GotoAsync($"/#/batch/{canvas}/{Guid.NewGuid()}");
        await Expect(page.Locator("main")).ToContainTextAsync("No batch");
        dashboard.AssertNoErrors();
    }

    [Fact]
    public async Task Cancel_asks_first_then_cancels_the_batch_and_its_onComplete_fires()
    {
        var (canvas, token) = await CanvasAsync();
        // One event runs; the other waits ten minutes, so the batch is running when it is cancelled.
        var batch = await CreateAsync(canvas, token, new JsonObject
        {
            ["events"] = new JsonArray(Square(3), Square(4, delaySeconds: 600)),
            ["onComplete"] = new JsonObject { ["worker"] = "report", ["event"] = "cancelled" },
        });

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync($"#/batch/{canvas}/{batch}");
        var page = dashboard.Page;
        await Expect(page.Locator(".stats [data-stat='completed']")).ToHaveTextAsync("1");
        await Expect(page.Locator(".stats [data-stat='pending']")).ToHaveTextAsync("1");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Batch {batch.ToString()[..8]}" }))
            .ToHaveTextAsync($"Batch {batch.ToString()[..8]} running");
        await Expect(page.Locator("tr[data-callback='onComplete']")).ToContainTextAsync("when the batch completes");

        // Dismissed, the question cancels nothing.
        var cancel = page.GetByRole(AriaRole.Button, new() { Name = "Cancel batch" });
        await cancel.ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("1 queued and scheduled event(s)");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        Assert.Null((await BatchAsync(canvas, batch, token))["cancelledAt"]);

        await cancel.ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel batch" }).ClickAsync();
        await Expect(page.Locator(".stats [data-stat='cancelled']")).ToHaveTextAsync("1");
        await Expect(page.Locator(".stats [data-stat='pending']")).ToHaveTextAsync("0");
        await Expect(page.Locator("[data-time='cancelledAt']")).Not.ToHaveTextAsync("—");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Batch {batch.ToString()[..8]}" }))
            .ToHaveTextAsync($"Batch {batch.ToString()[..8]} completed cancelled");
        await Expect(cancel).ToBeHiddenAsync();
        await Expect(page.GetByRole(AriaRole.Progressbar).Locator("[data-part='cancelled']"))
            .ToHaveAttributeAsync("data-count", "1");
        await Expect(page.Locator("tr[data-callback='onComplete'] [data-status]"))
            .ToHaveAttributeAsync("data-status", "completed");
        await ScreenshotAsync(dashboard, "14-batch-cancelled");
        Assert.NotNull((await BatchAsync(canvas, batch, token))["cancelledAt"]);
        dashboard.AssertNoErrors();
    }
}
