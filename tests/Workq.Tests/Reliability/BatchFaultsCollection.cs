namespace Workq.Tests.Reliability;

/// <summary>
/// A cluster of its own for batches under faults: its tests kill and start its own services only, so ./test.sh runs
/// them in the background (<see cref="TestPhase.Background"/>), beside the shared tests, not alone after them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BatchFaultsCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "Batch faults (kills its own services; a cluster of its own)";
}
