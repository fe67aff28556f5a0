namespace Workq.Shared.Handlers.Messaging;

/// <summary>
/// The batch a callback runs for, as it finished: what the handler's <c>Batch</c> global says (<c>Failed</c> counts
/// the failed, timed-out and dead-lettered members).
/// </summary>
public readonly record struct BatchSummary(Guid Id, int Total, int Completed, int Failed, int Cancelled);
