using Microsoft.Playwright;

namespace Workq.Tests.Dashboard;

/// <summary>One browser tab on the dashboard; records every console error and uncaught exception of the page.</summary>
public sealed class DashboardPage : IAsyncDisposable
{
    private readonly IBrowserContext context;
    private readonly WorkqCluster cluster;
    private readonly List<string> errors = [];

    public IPage Page { get; }

    public DashboardPage(IBrowserContext context, IPage page, WorkqCluster cluster)
    {
        this.context = context;
        this.cluster = cluster;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !IsHandledApiAnswer(message) && !IsHostNetworkChange(message))
                lock (errors) errors.Add(
                $"console: {message.Text} ({message.Location})");
        };
        page.PageError += (_, error) => { lock (errors) errors.Add($"uncaught: {error}"); };
    }

    /// <summary>
    /// Chromium logs every 4xx answer to fetch() as a console error. For the API these are answers the page
    /// shows as problem details (a compile error, a missing route it degrades on), not faults of the page.
    /// </summary>
    private static bool IsHandledApiAnswer(IConsoleMessage message) =>
        message.Text
            .StartsWith("Failed to load resource: the server responded with a status of 4", StringComparison.Ordinal)
        && Uri.TryCreate(message.Location, UriKind.Absolute, out var url) && url.AbsolutePath
            .StartsWith("/v1/", StringComparison.Ordinal);

    /// <summary>
    /// Chromium aborts the requests in flight when the machine's network interfaces change, as they do when the cluster
    /// tests beside these create and remove Docker networks: the machine's doing, not the page's. What the page then
    /// shows is still asserted by each test.
    /// </summary>
    private static bool IsHostNetworkChange(IConsoleMessage message) =>
        message.Text.EndsWith("net::ERR_NETWORK_CHANGED", StringComparison.Ordinal);

    public ILocator Alert => Page.Locator("#alert");

    public async Task SignInAsync(string token, string? canvas = null)
    {
        await Page.GotoAsync("/");
        await Page.GetByLabel("Token", new() { Exact = true }).FillAsync(token);
        if (canvas is not null) await Page.GetByLabel("Canvas").FillAsync(canvas);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    public async Task SignInAsAdminAsync(string hash)
    {
        await SignInAsync(cluster.AdminToken);
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Canvases", Exact = true }))
            .ToBeVisibleAsync();
        await Page.GotoAsync("/" + hash);
    }

    /// <summary>
    /// Saves a full-page screenshot under <see cref="DashboardBrowser.ArtifactDirectory"/> and returns its path.
    /// </summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var path = Path.Combine(DashboardBrowser.ArtifactDirectory, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public void AssertNoErrors()
    {
        lock (errors) Assert.True(errors.Count == 0, "The page logged errors:\n" + string.Join("\n", errors));
    }

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}
