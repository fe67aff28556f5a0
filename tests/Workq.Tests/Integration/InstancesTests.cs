using Workq.Client;

namespace Workq.Tests.Integration;

/// <summary>
/// The instances view (GET /v1/instances): live worker instances with their consumers, from their load reports.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class InstancesTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<List<InstanceDetail>> InstancesAsync() => (await cluster.JsonAsync(
        HttpMethod.Get,
        cluster.ControlUrl("/v1/instances"),
        cluster.AdminToken)).As<List<InstanceDetail>>();

    private static IEnumerable<InstanceConsumer> ConsumersOf(List<InstanceDetail> instances, string canvas) =>
        instances.SelectMany(i => i.Consumers).Where(c => c.Canvas == canvas);

    [Fact]
    public async Task Two_instances_are_listed_with_their_consumers_and_prefetch_and_a_paused_workers_consumers_go()
    {
        while (cluster.Workers.Count(w => !w.HasExited) < 2) await cluster.StartWorkerAsync();
        var pids = cluster.Workers.Where(w => !w.HasExited).Select(w => w.Id).ToHashSet();
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "a", "return 1;", concurrency: 7, token: token);
        await cluster.DeployAsync(canvas, "b", "return 2;", concurrency: 3, token: token);

        var listed = await cluster.EventuallyAsync(InstancesAsync,
            l => l.Count(i => pids.Contains(i.Pid)) >= 2 && ConsumersOf(l, canvas).Count() >= 2 * 2,
            Patience,
            "both instances consuming a and b");
        foreach (var instance in listed.Where(i => pids.Contains(i.Pid)))
        {
            Assert.NotEqual(Guid.Empty, instance.Id);
            Assert.False(string.IsNullOrEmpty(instance.Host));
            Assert.Empty(instance.Canvases);
            // Handler code runs in runner processes by default; none has started yet, since nothing was emitted.
            Assert.Equal("canvas", instance.Isolation);
            Assert.DoesNotContain(instance.Runners!, r => r.Canvas == canvas);
            Assert.True(instance.LastSeen > DateTimeOffset.UtcNow.AddSeconds(-10));
            var mine = instance.Consumers.Where(c => c.Canvas == canvas).ToDictionary(c => c.Worker);
            Assert.Equal(7, mine["a"].Prefetch);
            Assert.Equal(3, mine["b"].Prefetch);
            Assert.Equal("consuming", mine["a"].State);
            Assert.Equal(0, mine["b"].InFlight);
        }

        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/a/pause"), token);
        var after = await cluster.EventuallyAsync(InstancesAsync,
            l => !ConsumersOf(l, canvas).Any(c => c.Worker == "a"),
            Patience,
            "a's consumers gone after pause");
        Assert.True(ConsumersOf(after, canvas).Count(c => c.Worker == "b") >= 2);
    }

    [Fact]
    public async Task The_instances_view_is_the_admins()
    {
        var (_, token) = await cluster.CreateCanvasAsync();
        using var forbidden = await cluster.SendAsync(HttpMethod.Get, cluster.ControlUrl("/v1/instances"), token);
        Assert.Equal(403, (int)forbidden.StatusCode);
        Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType?.MediaType);
        using var anonymous = await cluster.SendAsync(HttpMethod.Get, cluster.ControlUrl("/v1/instances"), null);
        Assert.Equal(401, (int)anonymous.StatusCode);
    }
}
