namespace Workq.Shared.Storage;

/// <summary>A cron as stored: <see cref="Event"/> is the JSON text emitted on every tick.</summary>
public sealed record CronRecord(
    string Canvas,
    string Name,
    string Schedule,
    string Worker,
    string Event,
    DateTimeOffset? LastRun,
    DateTimeOffset NextRun);
