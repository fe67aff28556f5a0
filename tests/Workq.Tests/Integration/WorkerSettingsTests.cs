using Workq.Client;
using Workq.Tests.Client;

namespace Workq.Tests.Integration;

/// <summary>
/// PUT takes every setting PATCH takes: a deploy with a retry policy gets it, and a later deploy without one keeps it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class WorkerSettingsTests(WorkqCluster cluster)
{
    [Fact]
    public async Task A_deploy_with_a_retry_policy_stores_it_a_redeploy_without_one_keeps_it_and_null_clears_it()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("settings");
        var url = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w");

        var created = await cluster.JsonAsync(HttpMethod.Put, url, token,
            """{"code":"return 1;","concurrency":3,"retry":{"maxAttempts":4,"backoffSeconds":[1,5]}}""", expect: 201);
        var worker = created.As<Worker>();
        Assert.Equal(4, worker.Retry!.MaxAttempts);
        Assert.Equal([1, 5], worker.Retry.BackoffSeconds!);
        Assert.Equal(3, worker.Concurrency);

        // A new version of the code alone leaves the settings as they were, as PATCH leaves what it is not given.
        var redeployed = (await cluster.JsonAsync(HttpMethod.Put, url, token, """{"code":"return 2;"}""")).As<Worker>();
        Assert.Equal(2, redeployed.Version);
        Assert.Equal(4, redeployed.Retry!.MaxAttempts);
        Assert.Equal(3, redeployed.Concurrency);

        var cleared = await cluster.JsonAsync(HttpMethod.Put, url, token, """{"code":"return 3;","retry":null}""");
        Assert.Null(cleared.As<Worker>().Retry);
        Assert.Null((await cluster.GetWorkerAsync(canvas, "w")).Retry);
    }

    [Fact]
    public async Task The_client_deploys_with_a_retry_policy()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("settings");
        using var control = FastClients.Control(cluster, token);
        var worker = await control.DeployWorkerAsync(
            canvas,
            "w",
            "return 1;",
            new WorkerSettings(Concurrency: 2, Retry: new RetryPolicy(3, [2])));
        Assert.Equal(3, worker.Retry!.MaxAttempts);
        Assert.Equal(2, worker.Concurrency);
        var cleared = await control.DeployWorkerAsync(canvas, "w", "return 2;", new WorkerSettings(ClearRetry: true));
        Assert.Null(cleared.Retry);
        Assert.Equal(2, cleared.Concurrency);
    }
}
