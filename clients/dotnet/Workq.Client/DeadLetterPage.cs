namespace Workq.Client;

/// <summary>One page of a dead-letter search, newest first; <c>NextCursor</c> is null on the last page.</summary>
public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, string? NextCursor);
