namespace Workq.Tests.Dashboard;

/// <summary>
/// The dashboard's tests share one cluster and one Chromium of their own, and run beside the other collections: the
/// browser is the heaviest thing a test starts, and started once it serves every dashboard test.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<WorkqCluster>, ICollectionFixture<DashboardBrowser>
{
    public const string Name = "Dashboard (a cluster and a browser of its own)";
}
