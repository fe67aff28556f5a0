namespace Workq.Bench.Reporting;

/// <summary>
/// Scenario 11: <c>Events</c> durable events of 100 steps each; the median first run (each step run and kept) and the
/// median resume (all 100 replayed from one read), in milliseconds.
/// </summary>
public sealed record DurableResult(int Events, double FirstRunMs, double ReplayMs);
