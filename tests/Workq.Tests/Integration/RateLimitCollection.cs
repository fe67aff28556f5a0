namespace Workq.Tests.Integration;

/// <summary>
/// A cluster of its own for the rate limits: one test paces a backlog over a minute with two worker instances, so it
/// runs beside the other collections, and its second instance stays out of the shared cluster.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RateLimitCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "Rate limits (paced over a minute; a cluster of its own)";
}
