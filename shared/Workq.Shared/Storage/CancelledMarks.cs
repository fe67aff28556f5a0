namespace Workq.Shared.Storage;

/// <summary>Un-enqueue marks as a read found them, and the store's time of that read.</summary>
public sealed record CancelledMarks(IReadOnlyList<(string Canvas, string Worker, Guid Id)> Ids, DateTimeOffset ReadAt);
