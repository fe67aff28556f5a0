namespace Workq.Control.Apis;

public sealed record UnhandledView(
    string Worker,
    long Count,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    string Sample,
    long Dropped);
