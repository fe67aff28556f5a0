namespace Workq.Tests.Cluster;

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
