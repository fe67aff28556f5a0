namespace Workq.Tests.Integration;

/// <summary>
/// WORKQ_TRACES_MONGODB as an operator meets it without a MongoDB server: a value that is not a MongoDB URL stops
/// the service at start, and a MongoDB that does not answer keeps the service alive but not ready, naming it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TraceStoreStartupTests(WorkqCluster cluster)
{
    [Theory]
    [InlineData("Control")]
    [InlineData("Worker")]
    public async Task A_value_that_is_not_a_MongoDB_URL_stops_the_service_with_78(string service)
    {
        var environment = cluster.ServiceEnvironment;
        environment["WORKQ_TRACES_MONGODB"] = "postgres://127.0.0.1/traces";
        await using var process = ServiceProcess.Start(
            service,
            $"{service.ToLowerInvariant()}-mongo-url-{Guid.NewGuid():N}",
            environment,
            cluster.LogDirectory);
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(patience.Token);

        Assert.Equal(78, process.ExitCode);
        Assert.Contains(
            File.ReadAllLines(process.LogPath),
            line => line.Contains("WORKQ_TRACES_MONGODB") && line.Contains("refuses to start"));
    }

    [Fact]
    public async Task A_MongoDB_that_does_not_answer_leaves_control_alive_but_not_ready_and_says_why()
    {
        var environment = cluster.ServiceEnvironment;
        // Nothing listens on port 1: the ping fails, or outlasts the check's time-out.
        environment["WORKQ_TRACES_MONGODB"]
            = "mongodb://127.0.0.1:1/workq?serverSelectionTimeoutMS=500&connectTimeoutMS=500";
        await using var process = ServiceProcess.Start(
            "Control",
            $"control-mongo-down-{Guid.NewGuid():N}",
            environment,
            cluster.LogDirectory);

        var deadline = DateTime.UtcNow.AddSeconds(90);
        HttpResponseMessage? alive = null;
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                alive = await cluster.Http.GetAsync(new Uri(process.Url, "/healthz"));
                if (alive.IsSuccessStatusCode) break;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(200);
        }
        Assert.False(process.HasExited, process.Tail());
        Assert.Equal(HttpStatusCode.OK, alive?.StatusCode);

        using var ready = await cluster.Http.GetAsync(new Uri(process.Url, "/readyz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("application/problem+json", ready.Content.Headers.ContentType?.MediaType);
        var detail = (await ready.Content.ReadAsStringAsync()).As<Problem>().Detail;
        Assert.Contains("mongodb", detail, StringComparison.OrdinalIgnoreCase);
    }
}
