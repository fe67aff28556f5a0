namespace Workq.Tests.Client;

/// <summary>The .NET client's and the CLI's tests, on a shared cluster of their own, beside the API's.</summary>
[CollectionDefinition(Name)]
public sealed class ClientsCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "Clients";
}
