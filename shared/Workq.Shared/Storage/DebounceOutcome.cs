namespace Workq.Shared.Storage;

/// <summary>
/// What a debounced emit came to (API.md "Debounce"): the id and enqueue time of the run it belongs to, and whether it
/// <c>Started</c> that run (a leading one is then the caller's to publish; a trailing one is stored, due at
/// <c>RunAt</c>) or was absorbed into it; the emits the run has absorbed so far.
/// </summary>
public sealed record DebounceOutcome(Guid Id, DateTimeOffset EnqueuedAt, bool Started, DateTimeOffset? RunAt,
    int Absorbed);
