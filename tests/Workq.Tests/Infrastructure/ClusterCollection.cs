namespace Workq.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "Workq cluster";
}
