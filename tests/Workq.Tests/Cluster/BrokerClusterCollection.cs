namespace Workq.Tests.Cluster;

/// <summary>
/// The container tests, one at a time on their own brokers. They run beside the other collections: their faults touch
/// only their containers, and most of their time is a fault's length, not work. (The reliability collection, which
/// stops this machine's RabbitMQ and PostgreSQL, still runs alone, after every other.)
/// </summary>
[CollectionDefinition(Name)]
public sealed class BrokerClusterCollection : ICollectionFixture<BrokerClusterFixture>
{
    public const string Name = "RabbitMQ cluster (containers)";
}
