namespace Workq.Bench.Reporting;

/// <summary>Bytes a service allocated per event during a scenario.</summary>
public sealed record AllocationShare(string Process, double BytesPerEvent);
