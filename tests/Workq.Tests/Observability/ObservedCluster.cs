namespace Workq.Tests.Observability;

/// <summary>
/// A Workq of its own whose services export traces and metrics over OTLP to the test's receiver, quickly.
/// </summary>
public sealed class ObservedCluster : IAsyncLifetime
{
    public OtlpReceiver Receiver { get; private set; } = null!;
    public WorkqCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Receiver = await OtlpReceiver.StartAsync();
        Cluster = new WorkqCluster
        {
            ExtraEnvironment = new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Receiver.Url.ToString().TrimEnd('/'),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            },
        };
        await Cluster.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}
