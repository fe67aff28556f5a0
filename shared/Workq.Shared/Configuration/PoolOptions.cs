using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>
/// Worker only: the canvases this instance consumes (its pool), and how often it re-reads their workers.
/// </summary>
public sealed class PoolOptions
{
    /// <summary>The canvases a worker instance consumes; every canvas by default.</summary>
    public CanvasFilter Canvases { get; init; } = CanvasFilter.All;
    /// <summary>
    /// How often the instance re-reads the registry, as a safety net beside the control plane's messages.
    /// </summary>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromSeconds(10);

    public static PoolOptions From(IConfiguration config)
    {
        var defaults = new PoolOptions();
        return new PoolOptions
        {
            Canvases = CanvasFilter.Parse(config["WORKQ_CANVASES"]),
            ReconcileInterval = Setting.Seconds(
                config,
                "WORKQ_RECONCILE_INTERVAL_SECONDS",
                defaults.ReconcileInterval),
        };
    }
}
