namespace Workq.Client;

/// <summary>One page of a canvas's batches, newest first; <c>NextCursor</c> is null on the last page.</summary>
public sealed record BatchPage(IReadOnlyList<Batch> Items, string? NextCursor);
