namespace Workq.Shared.Poison;

/// <summary>How a message failed for good: its last error, how often it was tried, and when it first failed.</summary>
public sealed record PoisonFailure(Exception Error, int Attempts, DateTimeOffset FirstFailedAt);
