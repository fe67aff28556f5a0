namespace Workq.Shared.Storage;

/// <summary>A cron whose next tick is due.</summary>
public sealed record DueCron(string Canvas, string Name, string Schedule, DateTimeOffset NextRun);
