namespace Workq.Client;

/// <summary>
/// Where an event id is known on a canvas (<see cref="WorkqControlClient.FindEventAsync"/>): every place it was found,
/// and a note on what is not searched (queued and running events; traces beyond the last 10 per worker).
/// </summary>
public sealed record EventLookup(Guid Id, IReadOnlyList<EventLocation> Found, string Note);
