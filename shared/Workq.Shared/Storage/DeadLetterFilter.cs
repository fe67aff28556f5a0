namespace Workq.Shared.Storage;

/// <summary>
/// Which dead letters a search, redrive or discard means; every part is optional and they all apply.
/// <paramref name="Q"/> is a case-insensitive substring of the reason (which holds the error) or the payload text,
/// <paramref name="Reason"/> a case-insensitive start of the reason, <paramref name="From"/> inclusive, <paramref
/// name="To"/> exclusive.
/// </summary>
public sealed record DeadLetterFilter(
    string? Q = null,
    string? Reason = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null);
