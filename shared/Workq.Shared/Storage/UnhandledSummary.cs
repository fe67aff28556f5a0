namespace Workq.Shared.Storage;

public sealed record UnhandledSummary(
    string Worker,
    long Count,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    string Sample,
    long Dropped);
