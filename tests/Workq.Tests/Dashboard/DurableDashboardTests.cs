using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Workq.Tests.Dashboard;

/// <summary>
/// Durable handlers in the dashboard (lookup.js, app.js): Cancel on a looked-up event, running or waiting; a waiting
/// event's signal and time-out; the worker's sleeping and waiting counts; a resumed run's trace.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DurableDashboardTests(WorkqCluster cluster, DashboardBrowser browser, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task ScreenshotAsync(DashboardPage dashboard, string name) =>
        output.WriteLine($"screenshot: {await dashboard.ScreenshotAsync(name)}");

    /// <summary>The event's status (as the API answers it) once it is <paramref name="status"/>.</summary>
    private Task<string?> StatusAsync(string canvas, Guid id, string token, string status) =>
        cluster.EventuallyAsync(
            async () =>
            {
                using var response = await cluster.SendAsync(
                    HttpMethod.Get,
                    cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}"),
                    token);
                // 404 until the emit's first status is written, a moment after its 202.
                return response.IsSuccessStatusCode
                    ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>()
                    : null;
            },
            s => s == status,
            Patience,
            $"event {id} {status}");

    [Fact]
    public async Task Cancel_on_a_running_event_asks_first_then_the_event_ends_cancelled()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("cancelui");
        await cluster.DeployAsync(
            canvas,
            "forever",
            "await Task.Delay(Timeout.Infinite, CancellationToken); return 1;",
            token: token);

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync($"#/c/{canvas}");
        var page = dashboard.Page;
        await Expect(page.Locator("tr[data-worker='forever']")).ToBeVisibleAsync();

        // The page is up before the event runs: the test cluster's handler time-out (3 s) bounds the window. On a
        // loaded machine it can end the run before the cancel reaches it; such a try shows nothing about cancel, and
        // another is made (three at most).
        Guid id;
        ILocator status, cancel;
        for (var attempt = 1; ; attempt++)
        {
            id = await cluster.EmitAsync(canvas, "forever", "1", token);
            await StatusAsync(canvas, id, token, "running");
            await page.GotoAsync($"/#/find/{canvas}/{id}");
            status = page.Locator(".event-status");
            cancel = page.GetByRole(AriaRole.Button, new() { Name = "Cancel event" });
            try
            {
                await Expect(status).ToHaveAttributeAsync("data-status", "running", new() { Timeout = 2_000 });
                await cancel.ClickAsync(new() { Timeout = 2_000 });
                var dialog = page.GetByRole(AriaRole.Dialog);
                await Expect(dialog).ToContainTextAsync("CancellationToken");
                await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel event" }).ClickAsync();
            }
            catch (Exception late) when (late is PlaywrightException or TimeoutException && attempt < 3)
            {
                // Timed out before the button could be pressed.
                continue;
            }
            var final = (await cluster.JsonAsync(HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}?wait=30"), token))!;
            if (final["status"]!.GetValue<string>() != "cancelled" && attempt < 3) continue;
            break;
        }

        await Expect(page.Locator(".cancel-answer")).ToHaveAttributeAsync("data-cancel", "running");
        await Expect(page.Locator(".cancel-answer")).ToContainTextAsync("ends cancelled when it returns");
        await Expect(status).ToHaveAttributeAsync("data-status", "cancelled", new() { Timeout = 30_000 });
        await Expect(status).Not.ToContainTextAsync("(following)");
        // A finished event is past cancelling.
        await Expect(cancel).ToBeHiddenAsync();
        await ScreenshotAsync(dashboard, "15-event-cancelled");

        // Its trace says who cancelled it (the admin's session).
        var trace = await cluster.TraceOfAsync(canvas, "forever", id, Patience);
        Assert.Equal("cancelled", trace["status"]!.GetValue<string>());
        Assert.Contains("Cancelled by admin", trace["error"]!["message"]!.GetValue<string>());
        dashboard.AssertNoErrors();
    }

    [Fact]
    public async Task A_waiting_event_shows_its_signal_and_time_out_counts_as_waiting_and_is_cancelled_at_once()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("waitui");
        await cluster.DeployAsync(
            canvas,
            "approve",
            """var v = await WaitFor("go", TimeSpan.FromMinutes(5)); return v;""",
            token: token);
        var id = await cluster.EmitAsync(canvas, "approve", """{"order":7}""", token);
        await StatusAsync(canvas, id, token, "waiting");

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsync(token, canvas);
        var page = dashboard.Page;
        // The canvas's table and the worker's page count it as waiting.
        await Expect(page.Locator("tr[data-worker='approve'] [data-stat='waiting']")).ToHaveTextAsync("1");
        await Expect(page.Locator("tr[data-worker='approve'] [data-stat='sleeping']")).ToHaveTextAsync("0");
        await page.GotoAsync($"/#/c/{canvas}/w/approve");
        await Expect(page.Locator(".stats [data-stat='waiting']")).ToHaveTextAsync("1");
        await Expect(page.Locator(".stats [data-stat='sleeping']")).ToHaveTextAsync("0");
        var waitingTrace = page.Locator($"details.trace[data-event-id='{id}']");
        await Expect(waitingTrace.Locator(".badge").First).ToHaveTextAsync("waiting");
        await Expect(waitingTrace).ToHaveAttributeAsync("data-resume", "0");

        await page.GotoAsync($"/#/find/{canvas}/{id}");
        var status = page.Locator(".event-status");
        await Expect(status).ToHaveAttributeAsync("data-status", "waiting");
        await Expect(status).ToContainTextAsync("(following)");
        await Expect(status.Locator("dl.facts dt")).ToHaveTextAsync(
            ["Attempts", "Enqueued", "Times out at", "Waiting for", "Started", "Finished"]);
        await Expect(status.Locator("[data-waiting-for]")).ToHaveTextAsync("go");
        await ScreenshotAsync(dashboard, "16-event-waiting");

        // Dismissed, the question cancels nothing; confirmed, a waiting event is cancelled at once.
        var cancel = page.GetByRole(AriaRole.Button, new() { Name = "Cancel event" });
        await cancel.ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("It is waiting");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        Assert.Equal("waiting", await StatusAsync(canvas, id, token, "waiting"));

        await cancel.ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel event" }).ClickAsync();
        await Expect(page.Locator(".cancel-answer")).ToHaveAttributeAsync("data-cancel", "cancelled");
        await Expect(status).ToHaveAttributeAsync("data-status", "cancelled");
        await Expect(cancel).ToBeHiddenAsync();
        Assert.Equal("cancelled", await StatusAsync(canvas, id, token, "cancelled"));
        dashboard.AssertNoErrors();
    }

    [Fact]
    public async Task A_resumed_run_shows_its_resume_in_the_trace_and_a_finished_event_offers_no_cancel()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("resumeui");
        await cluster.DeployAsync(
            canvas,
            "approve",
            """var v = await WaitFor("go", TimeSpan.FromMinutes(5)); return v;""",
            token: token);
        var id = await cluster.EmitAsync(canvas, "approve", "1", token);
        await StatusAsync(canvas, id, token, "waiting");
        await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}/signals/go"),
            token,
            "\"<img src=x onerror=alert(1)>\"",
            expect: 202);
        await StatusAsync(canvas, id, token, "completed");
        await cluster.EventuallyAsync(
            () => cluster.TracesAsync(canvas, "approve"),
            t => t.Count == 2,
            Patience,
            "both runs traced");

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync($"#/c/{canvas}/w/approve");
        var page = dashboard.Page;
        var resumed = page.Locator($"details.trace[data-event-id='{id}'][data-resume='1']");
        await Expect(resumed.Locator(".badge").First).ToHaveTextAsync("completed");
        await Expect(resumed.Locator("summary")).ToContainTextAsync("resume 1");
        await resumed.Locator("summary").ClickAsync();
        await Expect(resumed.Locator("dl.facts")).ToContainTextAsync("Resume");
        // The signal's value, the handler's result, is text.
        await Expect(resumed).ToContainTextAsync("<img src=x onerror=alert(1)>");
        await Expect(page.Locator("img[src='x']")).ToHaveCountAsync(0);
        await ScreenshotAsync(dashboard, "17-trace-resumed");

        // The lookup offers no Cancel for a finished event.
        await page.GotoAsync($"/#/find/{canvas}/{id}");
        await Expect(page.Locator(".event-status")).ToHaveAttributeAsync("data-status", "completed");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel event" })).ToBeHiddenAsync();
        dashboard.AssertNoErrors();
    }
}
