namespace Workq.Tests.Integration;

/// <summary>
/// A cluster of its own for the crons: their real-time test waits out two minute boundaries, so ./test.sh runs them in
/// the background (<see cref="TestPhase.Background"/>), where the wait holds up no other test.
/// </summary>
[CollectionDefinition(Name)]
public sealed class CronCollection : ICollectionFixture<WorkqCluster>
{
    public const string Name = "Cron (real minute boundaries; a cluster of its own)";
}
