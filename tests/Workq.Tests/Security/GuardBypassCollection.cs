namespace Workq.Tests.Security;

[CollectionDefinition(Name)]
public sealed class GuardBypassCollection : ICollectionFixture<GuardBypass>
{
    public const string Name = "Guard bypass";
}
