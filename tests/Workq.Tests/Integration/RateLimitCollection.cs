namespace Workq.Tests.Integration;

/// <summary>
/// A cluster of its own for the rate limits: one test paces a backlog over a minute with two worker instances and
/// counts the rate it sees, so it runs alone, after the other collections (beside other tests, a run of its
/// backlog overran the handler time-out), and its second instance stays out of the shared cluster.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RateLimitCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "Rate limits (paced over a minute; a cluster of its own)";
}
