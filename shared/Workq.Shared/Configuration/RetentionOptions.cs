using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>What the dispatcher keeps: parked events and dead letters per worker, and metrics by their step.</summary>
public sealed class RetentionOptions
{
    public int MaxUnhandledPerWorker { get; init; } = 10_000;
    public int MaxDeadLettersPerWorker { get; init; } = 10_000;
    /// <summary>How long the per-minute metrics are kept (and so the longest range at a 60 s step).</summary>
    public TimeSpan MetricsMinuteRetention { get; init; } = TimeSpan.FromHours(48);
    /// <summary>How long the hourly metrics are kept (and so the longest range at a 3600 s step).</summary>
    public TimeSpan MetricsHourRetention { get; init; } = TimeSpan.FromDays(30);

    public static RetentionOptions From(IConfiguration config)
    {
        var defaults = new RetentionOptions();
        return new RetentionOptions
        {
            MaxUnhandledPerWorker = Setting.Int(
                config,
                "WORKQ_MAX_UNHANDLED_PER_WORKER",
                defaults.MaxUnhandledPerWorker),
            MaxDeadLettersPerWorker = Setting.Int(
                config,
                "WORKQ_MAX_DEAD_LETTERS_PER_WORKER",
                defaults.MaxDeadLettersPerWorker),
            MetricsMinuteRetention = Setting.Hours(
                config,
                "WORKQ_METRICS_MINUTE_RETENTION_HOURS",
                defaults.MetricsMinuteRetention),
            MetricsHourRetention = Setting.Days(
                config,
                "WORKQ_METRICS_HOUR_RETENTION_DAYS",
                defaults.MetricsHourRetention),
        };
    }
}
