namespace Workq.Tests.Cluster;

/// <summary>
/// The three-node cluster's fault tests, one at a time on the one cluster. ./test.sh runs the container tests in a
/// process of their own (<see cref="TestPhase.Background"/>), beside the shared tests: they mostly wait through their
/// faults' lengths. Their load is sized for that (<see cref="BrokerFaults.EmitsPerSecond"/>).
/// </summary>
[CollectionDefinition(Name)]
public sealed class BrokerClusterCollection : ICollectionFixture<BrokerClusterFixture>
{
    public const string Name = "RabbitMQ cluster (containers)";
}
