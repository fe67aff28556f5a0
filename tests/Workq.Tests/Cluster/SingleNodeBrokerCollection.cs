namespace Workq.Tests.Cluster;

/// <summary>
/// The single-node broker's tests, each on a container of its own: beside the cluster's, which they share nothing
/// with.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SingleNodeBrokerCollection
{
    public const string Name = "RabbitMQ single node (containers)";
}
