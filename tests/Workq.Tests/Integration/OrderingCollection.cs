namespace Workq.Tests.Integration;

/// <summary>A cluster of its own: these tests kill and add worker instances.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OrderingCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "Ordering";
}
