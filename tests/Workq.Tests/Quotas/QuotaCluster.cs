namespace Workq.Tests.Quotas;

/// <summary>
/// A Workq of its own with small quotas, so reaching them is quick: 20 emits per event, 20 queued per worker, 1 event/s
/// per canvas with a burst of 50.
/// </summary>
public sealed class QuotaCluster : IAsyncLifetime
{
    public const int MaxEmitsPerEvent = 20;
    public const int MaxQueued = 20;
    public const string EmitRate = "1/s,burst=50";
    public const int Burst = 50;

    public WorkqCluster Cluster { get; } = new()
    {
        ExtraEnvironment = new Dictionary<string, string>
        {
            ["WORKQ_MAX_EMITS_PER_EVENT"] = MaxEmitsPerEvent.ToString(),
            ["WORKQ_MAX_QUEUED_PER_WORKER"] = MaxQueued.ToString(),
            ["WORKQ_CANVAS_EMIT_RATE"] = EmitRate,
        },
    };

    public Task InitializeAsync() => Cluster.InitializeAsync();
    public Task DisposeAsync() => Cluster.DisposeAsync();
}
