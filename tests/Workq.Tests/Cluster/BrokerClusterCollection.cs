namespace Workq.Tests.Cluster;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerClusterCollection : ICollectionFixture<BrokerClusterFixture>
{
    public const string Name = "RabbitMQ cluster (containers; runs alone)";
}
