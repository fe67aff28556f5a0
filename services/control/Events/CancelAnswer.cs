namespace Workq.Control.Events;

/// <summary>
/// A cancel's answer: the event's status at that moment (<c>cancelled</c>, or <c>running</c> until it stops).
/// </summary>
public sealed record CancelAnswer(Guid Id, string Status);
