namespace Workq.Tests.Observability;

[CollectionDefinition(Name)]
public sealed class ObservedCollection : ICollectionFixture<ObservedCluster>
{
    public const string Name = "Observed Workq cluster";
}
