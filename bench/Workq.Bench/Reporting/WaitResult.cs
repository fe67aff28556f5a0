namespace Workq.Bench.Reporting;

/// <summary>
/// Queue wait two ways: every event as its handler reported it, and the runner's own queueWaitMs from sampled
/// traces; and, as the floor, plain RabbitMQ.Client publishing to a consumer at the same rate.
/// </summary>
public sealed record WaitResult(
    double TargetPerSecond,
    double AchievedPerSecond,
    Latencies Reported,
    Latencies Traced,
    double MachineBusy,
    IReadOnlyList<CpuShare> Cpu,
    Latencies? Raw = null,
    WaitTimeline? Timeline = null,
    WaitTimeline? RawTimeline = null);
