using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace Workq.Tests.Dashboard;

/// <summary>
/// The worker page's dead-letter search: the box narrows the list, pages follow, and "Discard these" acts on the search
/// only.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DeadLetterSearchDashboardTests(
    WorkqCluster cluster,
    DashboardBrowser browser,
    ITestOutputHelper output)
{
    [Fact]
    public async Task Search_narrows_the_dead_letters_pages_through_them_and_discards_only_what_it_selected()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("dlui");
        await cluster.DeployAsync(canvas, "w", "return 1;", token: token);
        // 150 dead letters (two pages of 100), 3 of them about a "needle" order.
        await using (var db = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(WorkqCluster.PostgresAdmin)
        {
            Database = cluster.Database
        }.ConnectionString))
        {
            await db.OpenAsync();
            await using var insert = new NpgsqlCommand("""
                insert into dead_letters (canvas, worker, event_id, enqueued_at, depth, body, body_text, reason,
                     attempts, dead_lettered_at)
                select @canvas, 'w', gen_random_uuid(), now(), 0, convert_to(b, 'UTF8'), b,
                       'retries exhausted after 3 attempts; last error: HttpRequestException: 503', 3,
                       now() - make_interval(secs => i)
                  from generate_series(1, 150) i,
                       lateral (select format('{"order":%s,"sku":"%s"}', i,
                                              case when i % 50 = 0 then 'needle' else 'hay' end) b) s
                """, db);
            insert.Parameters.AddWithValue("canvas", canvas);
            Assert.Equal(150, await insert.ExecuteNonQueryAsync());
        }

        await using var dashboard = await browser.OpenAsync(cluster);
        await dashboard.SignInAsAdminAsync($"#/c/{canvas}/w/w");
        var page = dashboard.Page;
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Dead letters" }).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(100);
        await page.GetByRole(AriaRole.Button, new() { Name = "Next page" }).ClickAsync();
        await Expect(page.GetByText("Page 2: 50 dead letter(s)")).ToBeVisibleAsync();
        await Expect(rows).ToHaveCountAsync(50);

        await page.GetByLabel("Search dead letters").FillAsync("NEEDLE");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(3);
        foreach (var row in await rows.AllAsync()) await Expect(row).ToContainTextAsync("needle");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Next page" })).ToBeDisabledAsync();
        output.WriteLine($"screenshot: {await dashboard.ScreenshotAsync("9-dead-letter-search")}");

        await page.GetByRole(AriaRole.Button, new() { Name = "Discard these" }).ClickAsync();
        await page.Locator("#ask-ok").ClickAsync();
        await Expect(page.GetByText("No dead letters match.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Clear" }).ClickAsync();
        await Expect(page.GetByText("Page 1: 100 dead letter(s)")).ToBeVisibleAsync();
        var left = (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters?limit=1000"),
            token)).As<List<Workq.Client.DeadLetter>>();
        Assert.Equal(147, left.Count);
        Assert.DoesNotContain(left, d => d.Event!["sku"]!.GetValue<string>() == "needle");
        dashboard.AssertNoErrors();
    }
}
