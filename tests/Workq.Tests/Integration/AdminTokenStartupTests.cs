using Workq.Shared.Configuration;

namespace Workq.Tests.Integration;

/// <summary>
/// Outside Development, the services that authenticate requests refuse to start without a real admin token:
/// exit code 78 (EX_CONFIG) and one line that names WORKQ_ADMIN_TOKEN, before they listen. In Development they start
/// without one.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AdminTokenStartupTests(WorkqCluster cluster)
{
    public static TheoryData<string, string> RefusedTokens => new()
    {
        { "Control", "" },
        { "Control", ServiceOptions.DevelopmentAdminToken },
        { "Control", "short-token" },
        { "Emitter", "" },
        { "Emitter", ServiceOptions.DevelopmentAdminToken },
        { "Emitter", "short-token" },
    };

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task Outside_Development_a_missing_development_or_short_token_stops_the_service_with_78(
        string service,
        string token)
    {
        var environment = cluster.ServiceEnvironment;
        environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        environment["WORKQ_ADMIN_TOKEN"] = token;   // empty is unset, as ServiceOptions reads it
        await using var process = ServiceProcess.Start(
            service,
            $"{service.ToLowerInvariant()}-token-{Guid.NewGuid():N}",
            environment,
            cluster.LogDirectory);
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(patience.Token);

        Assert.Equal(78, process.ExitCode);
        var lines = File.ReadAllLines(process.LogPath).Where(l => !l.StartsWith("[process exited")).ToList();
        var line = Assert.Single(lines);
        Assert.Contains("WORKQ_ADMIN_TOKEN", line);
        Assert.Contains("refuses to start", line);
        if (token == "short-token") Assert.DoesNotContain(token, line);   // a real token, however weak, is not echoed
    }

    // Development also validates the service container at build (a singleton holding a scoped service fails it), so
    // every service is started here, not only the two that take tokens.
    [Theory]
    [InlineData("Control")]
    [InlineData("Emitter")]
    [InlineData("Dispatcher")]
    [InlineData("Worker")]
    public async Task In_Development_the_service_starts_without_a_token(string service)
    {
        var environment = cluster.ServiceEnvironment;
        environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        environment["WORKQ_ADMIN_TOKEN"] = "";
        await using var process = ServiceProcess.Start(
            service,
            $"{service.ToLowerInvariant()}-dev-{Guid.NewGuid():N}",
            environment,
            cluster.LogDirectory);
        await process.WaitReadyAsync(cluster.Http, TimeSpan.FromSeconds(90));
        Assert.False(process.HasExited);
    }
}
