namespace Workq.Tests.Security;

[CollectionDefinition(Name)]
public sealed class HostileTenantCollection : ICollectionFixture<HostileTenant>
{
    public const string Name = "Hostile tenant";
}
