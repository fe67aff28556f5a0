using System.Diagnostics.Metrics;
using Workq.Shared.Poison;
using Workq.Shared.Storage;
using Workq.Shared.Telemetry;

namespace Workq.Control.Stats;

/// <summary>
/// <c>workq.quarantine.messages</c> on control's <c>/metrics</c>: the messages in the quarantine now, by source, read
/// every 10 seconds (each service's <c>workq.quarantined</c> counter counts those it moved there). Alert on it being
/// above zero.
/// </summary>
public sealed class QuarantineGauge(QuarantineStore store, ILogger<QuarantineGauge> logger) : BackgroundService
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(10);
    private readonly OutageLog outage = new(logger, "Counting the quarantine");
    private volatile IReadOnlyDictionary<string, long>? counts;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var gauge = WorkqDiagnostics.Meter.CreateObservableGauge(
            "workq.quarantine.messages",
            Observe,
            "{message}",
            "Messages in the quarantine, by source.");
        using var timer = new PeriodicTimer(RefreshEvery);
        try
        {
            do
            {
                if (!gauge.Enabled) continue;
                try
                {
                    counts = await store.CountAsync(stoppingToken);
                    outage.Succeeded();
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    outage.Failed(e);
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private IEnumerable<Measurement<long>> Observe() =>
        counts?.Select(c => new Measurement<long>(c.Value, new KeyValuePair<string, object?>("workq.source", c.Key)))
            ?? [];
}
