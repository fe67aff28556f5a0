namespace Workq.Client;

/// <summary>
/// A batch's callback as the batch reports it: its worker and its event's id, known from the start; the event has a
/// status (<see cref="WorkqControlClient.GetEventAsync"/>) once the batch completed.
/// </summary>
public sealed record BatchCallbackRef(string Worker, Guid EventId);
