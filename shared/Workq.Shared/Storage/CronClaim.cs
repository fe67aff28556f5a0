namespace Workq.Shared.Storage;

/// <summary>
/// A claimed tick: what to emit, read under the claim so it is the cron's latest worker and event, and its canvas's
/// incarnation.
/// </summary>
public sealed record CronClaim(string Worker, string Event, long CanvasIncarnation);
