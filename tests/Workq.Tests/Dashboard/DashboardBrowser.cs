using Microsoft.Playwright;

namespace Workq.Tests.Dashboard;

/// <summary>
/// One headless Debian Chromium for all dashboard tests, a fixture of DashboardCollection (Playwright cannot download
/// its own browsers here).
/// </summary>
public sealed class DashboardBrowser : IAsyncLifetime
{
    public static string ExecutablePath
        => Environment.GetEnvironmentVariable("WORKQ_TEST_CHROMIUM") ?? "/usr/bin/chromium";
    public static string ArtifactDirectory { get; }
        = Path.Combine(Path.GetTempPath(), "workq-test-artifacts", "dashboard");

    private IPlaywright? playwright;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath)) throw new FileNotFoundException(
            $"Chromium is missing at {ExecutablePath}: run scripts/chromium.sh (./test.sh does).");
        Directory.CreateDirectory(ArtifactDirectory);
        // The machine is shared and slow at times: waits are generous, and every one of them is a poll with a deadline.
        Assertions.SetDefaultExpectTimeout(30_000);
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        playwright?.Dispose();
    }

    public async Task<DashboardPage> OpenAsync(WorkqCluster cluster)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = cluster.Control.Url.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        return new DashboardPage(context, page, cluster);
    }
}
