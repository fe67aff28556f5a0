namespace Workq.Bench.Reporting;

/// <summary>CPU time each process spent per event during a scenario, in microseconds: where the work goes.</summary>
public sealed record CpuShare(string Process, double MicrosPerEvent);
