namespace Workq.Shared.Storage;

/// <summary>
/// What a pump made of the events it claimed: those the broker confirmed, those to try again at a later time, those it
/// gave up on.
/// </summary>
public sealed record PumpOutcome(
    IReadOnlyList<Guid> Published,
    IReadOnlyList<(Guid Id, DateTimeOffset At)> Later,
    IReadOnlyList<QuarantineEntry> Quarantined);
