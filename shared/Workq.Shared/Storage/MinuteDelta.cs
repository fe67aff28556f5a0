namespace Workq.Shared.Storage;

/// <summary>
/// What one worker instance adds to one worker's minute in one flush; the histograms are <see cref="LatencyHistogram"/>
/// buckets.
/// </summary>
public sealed record MinuteDelta(
    string Canvas,
    string Worker,
    DateTime At,
    long Processed,
    long Failed,
    long TimedOut,
    long Emitted,
    long[] QueueWait,
    long[] Duration);
