namespace Workq.Tests.Integration;

[CollectionDefinition(Name)]
public sealed class CompileSandboxCollection : ICollectionFixture<CompileSandboxCluster>
{
    public const string Name = "Compile sandbox cluster";
}
