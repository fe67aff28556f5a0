namespace Workq.Client;

/// <summary>
/// Which dead letters a search, redrive or discard means; unset parts select everything. <c>Q</c>: a case-insensitive
/// substring of the reason (which holds the error) or the payload; <c>Reason</c>: how the reason starts (e.g. "delivery
/// limit", "retries exhausted"); <c>From</c> inclusive, <c>To</c> exclusive.
/// </summary>
public sealed record DeadLetterFilter(
    string? Q = null,
    string? Reason = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null);
