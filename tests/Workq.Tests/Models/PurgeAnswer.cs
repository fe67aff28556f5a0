namespace Workq.Tests.Models;

/// <summary>The answer to purging a worker's events (queued and scheduled).</summary>
public sealed record PurgeAnswer(long Purged);
