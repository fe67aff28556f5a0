namespace Workq.Tests.Cluster;

/// <summary>
/// The container tests, one at a time on their own brokers, alone after every other collection: beside other tests,
/// a partitioned node's events were not all processed within three minutes of the heal (seen once; see issue 26's
/// note), and a fault's timing is what these tests are about.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerClusterCollection : ICollectionFixture<BrokerClusterFixture>
{
    public const string Name = "RabbitMQ cluster (containers; runs alone)";
}
