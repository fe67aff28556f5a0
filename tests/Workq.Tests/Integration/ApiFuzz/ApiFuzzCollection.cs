namespace Workq.Tests.Integration.ApiFuzz;

/// <summary>
/// The fuzzer, on a cluster of its own: its 2,500 requests take the better part of a minute, which would keep the
/// shared cluster's other tests waiting behind it.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ApiFuzzCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "API fuzz";
}
