namespace Workq.Tests.Models;

/// <summary>The answer to discarding dead letters or quarantined messages.</summary>
public sealed record DiscardAnswer(long Discarded);
