namespace Workq.Bench.Reporting;

/// <summary>One pass of scenarios 3 and 5b with the worker service in one <c>WORKQ_ISOLATION</c> mode.</summary>
public sealed record IsolationPass(string Isolation, BatchResult? Batch, WaitResult? QuarterWait, double? BatchOverRaw);
