using Workq.Shared.Configuration;

namespace Workq.Tests.Observability;

[Collection(ObservedCollection.Name)]
public sealed class WorkerPoolTests(ObservedCluster observed)
{
    private WorkqCluster Cluster => observed.Cluster;

    [Theory]
    [InlineData(null, "any", true)]
    [InlineData("big", "big", true)]
    [InlineData("big", "bigger", false)]
    [InlineData("big-*, shop", "big-1", true)]
    [InlineData("big-*, shop", "shop", true)]
    [InlineData("big-*, shop", "shops", false)]
    [InlineData("*-eu", "shop-eu", true)]
    [InlineData("a*b*c", "a-x-b-y-c", true)]
    [InlineData("a*b*c", "a-x-c", false)]
    [InlineData("!bigshop", "shop", true)]
    [InlineData("!bigshop", "bigshop", false)]
    [InlineData("shop*, !shop-eu", "shop-eu", false)]
    [InlineData("shop*, !shop-eu", "shop-us", true)]
    public void Canvas_patterns_are_names_or_star_globs(string? list, string canvas, bool matches) =>
        Assert.Equal(matches, CanvasFilter.Parse(list).Matches(canvas));

    [Fact]
    public async Task A_worker_instance_with_WORKQ_CANVASES_consumes_only_matching_canvases()
    {
        var (big, _) = await Cluster.CreateCanvasAsync("big");
        var (other, _) = await Cluster.CreateCanvasAsync("small");
        await Cluster.DeployAsync(big, "w", "return 1;");
        await Cluster.DeployAsync(other, "w", "return 1;");
        var pool = await Cluster.StartWorkerAsync(new Dictionary<string, string> { ["WORKQ_CANVASES"] = "big-*" });
        try
        {
            // The default instance consumes everything; the pool instance adds a consumer on the big canvas only.
            var consumers = await Cluster.EventuallyAsync(() => Cluster.Rabbit.ConsumersAsync(Cluster.VirtualHost),
                c => c.GetValueOrDefault($"workq.worker.{big}.w") == 2
                    && c.GetValueOrDefault($"workq.worker.{other}.w") == 1,
                TimeSpan.FromSeconds(30), "two consumers on the big canvas and one on the other");
            // Still so after the pool instance's periodic reconcile (WORKQ_RECONCILE_INTERVAL_SECONDS=5 in tests).
            await Task.Delay(TimeSpan.FromSeconds(6));
            consumers = await Cluster.Rabbit.ConsumersAsync(Cluster.VirtualHost);
            Assert.Equal(1, consumers.GetValueOrDefault($"workq.worker.{other}.w"));
            Assert.Equal(2, consumers.GetValueOrDefault($"workq.worker.{big}.w"));
        }
        finally
        {
            Cluster.Workers.Remove(pool);
            await pool.DisposeAsync();
        }
    }
}
