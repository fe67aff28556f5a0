namespace Workq.Shared.Storage;

public sealed record WorkerCounts(string Canvas, string Worker, long Processed, long Failed);
