namespace Workq.Tests.Integration;

/// <summary>
/// A cluster of its own for the crons: their real-time test waits out two minute boundaries, so it runs beside the
/// other collections instead of holding up the shared cluster's queue of tests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class CronCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "Cron (real minute boundaries; a cluster of its own)";
}
