namespace Workq.Shared.Storage;

public sealed record CanvasSummary(string Name, int Workers);
