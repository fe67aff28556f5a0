namespace Workq.Tests.Integration;

/// <summary>
/// A cluster of its own: these tests kill and add worker instances. They assert order and counts, not time, so they run
/// in the background lane, one at a time after its other collections (which end minutes before the shared tests do),
/// rather than alone after everything.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OrderingCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "Ordering";
}
