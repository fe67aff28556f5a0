namespace Workq.Client;

/// <summary>
/// One place an event was found: <c>Where</c> is trace, deadLetter, unhandled or cancelled, and only that place's
/// detail is set.
/// </summary>
public sealed record EventLocation(
    string Where,
    string Worker,
    Trace? Trace = null,
    DeadLetter? DeadLetter = null,
    ParkedEvent? Unhandled = null,
    DateTimeOffset? CancelledAt = null);
