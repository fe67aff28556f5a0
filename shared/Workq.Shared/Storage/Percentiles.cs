namespace Workq.Shared.Storage;

public sealed record Percentiles(double? P50, double? P95, double? P99);
