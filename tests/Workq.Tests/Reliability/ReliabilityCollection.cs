namespace Workq.Tests.Reliability;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReliabilityCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "Reliability (faults; runs alone)";
}
