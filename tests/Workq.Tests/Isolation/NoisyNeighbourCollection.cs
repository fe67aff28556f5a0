namespace Workq.Tests.Isolation;

// Alone: the neighbour's queue wait must measure what the attack costs it, not the CPU another test collection takes on
// two cores.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NoisyNeighbourCollection : ICollectionFixture<NoisyNeighbours>
{
    public const string Name = "Noisy neighbours";
}
