namespace Workq.Tests.Cluster;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerClusterCollection : ICollectionFixture<BrokerClusterFixture>
{
    public const string Name = "RabbitMQ cluster (containers; runs alone)";
}

/// <summary>
/// A test that needs RabbitMQ in containers. Skipped, with the reason, where scripts/images.sh has not built the image
/// or no Docker engine runs, and when <c>WORKQ_TEST_CLUSTER=0</c> (the switch to leave them out of a local run).
/// </summary>
public sealed class ContainersFactAttribute : FactAttribute
{
    public static string? SkipReason =>
        Environment.GetEnvironmentVariable("WORKQ_TEST_CLUSTER") == "0"
            ? "WORKQ_TEST_CLUSTER=0: the container tests are switched off"
            : RabbitNodes.Unavailable;

    public ContainersFactAttribute()
    {
        if (SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>
/// Three RabbitMQ nodes in containers, one cluster, and a whole Workq on it: control, the emitter, the dispatcher and
/// two worker instances on this machine, each given all three nodes. PostgreSQL is this machine's.
/// </summary>
public sealed class BrokerClusterFixture : IAsyncLifetime
{
    public RabbitNodes Nodes { get; private set; } = null!;
    public WorkqCluster Workq { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (ContainersFactAttribute.SkipReason is not null) return;
        Nodes = await RabbitNodes.StartAsync(3, CancellationToken.None);
        Workq = new WorkqCluster { Broker = Nodes.Broker };
        await Workq.InitializeAsync();
        await Workq.StartWorkerAsync();
    }

    public async Task DisposeAsync()
    {
        if (Workq is not null) await Workq.DisposeAsync();
        if (Nodes is not null) await Nodes.DisposeAsync();
    }
}
