using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>
/// Events' statuses: whether they are written, how long they are kept, how many requests may wait on them.
/// </summary>
public sealed class EventStatusOptions
{
    /// <summary>
    /// Whether events' statuses are written (<c>WORKQ_EVENT_STATUS</c>, on by default; off only to measure what they
    /// cost).
    /// </summary>
    public bool Enabled { get; init; } = true;
    /// <summary>
    /// How long an event's status is kept after its last change (<c>WORKQ_EVENT_STATUS_RETENTION_HOURS</c>).
    /// </summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromHours(24);
    /// <summary>
    /// Control only: event status requests that may <c>?wait</c> at once on one control instance; one more is answered
    /// 429.
    /// </summary>
    public int MaxWaits { get; init; } = 1_000;
    /// <summary>How long a batch is kept after it finished (<c>WORKQ_BATCH_RETENTION_HOURS</c>).</summary>
    public TimeSpan BatchRetention { get; init; } = TimeSpan.FromHours(168);

    public static EventStatusOptions From(IConfiguration config)
    {
        var defaults = new EventStatusOptions();
        return new EventStatusOptions
        {
            Enabled = config["WORKQ_EVENT_STATUS"] switch
            {
                null or "" or "on" => true,
                "off" => false,
                var other => throw new InvalidOperationException(
                    $"WORKQ_EVENT_STATUS must be 'on' or 'off', not '{other}'."),
            },
            Retention = Setting.Hours(config, "WORKQ_EVENT_STATUS_RETENTION_HOURS", defaults.Retention),
            MaxWaits = Setting.Int(config, "WORKQ_MAX_EVENT_WAITS", defaults.MaxWaits),
            BatchRetention = Setting.Hours(config, "WORKQ_BATCH_RETENTION_HOURS", defaults.BatchRetention),
        };
    }
}
