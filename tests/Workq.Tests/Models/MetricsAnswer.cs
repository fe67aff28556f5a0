namespace Workq.Tests.Models;

/// <summary>A metrics route's answer: the step in seconds (60 or 3600) and one point per step, oldest first.</summary>
public sealed record MetricsAnswer(int Step, IReadOnlyList<MetricsPoint> Points);
