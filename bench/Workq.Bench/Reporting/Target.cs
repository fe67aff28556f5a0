namespace Workq.Bench.Reporting;

public sealed record Target(string What, string Goal, string Measured, bool? Met);
