namespace Workq.Bench.Reporting;

/// <summary>
/// Scenario 10: a batch of <c>Events</c> filled by adds (done at <c>AddedSeconds</c>), its callback's lag after the
/// last member's end, the time the callback took to read every result, how many it read, and how many completed.
/// </summary>
public sealed record BigBatchResult(
    long Events,
    double AddedSeconds,
    double TotalSeconds,
    double CallbackLagMs,
    double ReadMs,
    long Read,
    long Completed);
