namespace Workq.Shared.Handlers.Messaging;

/// <summary>
/// A page of a batch's members, in the order they ended; <c>Next</c>, where the next page starts, is -1 after the last.
/// </summary>
public sealed record BatchResultsPage(IReadOnlyList<BatchResult> Items, long Next);
