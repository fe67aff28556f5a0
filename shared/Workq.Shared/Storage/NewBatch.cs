namespace Workq.Shared.Storage;

/// <summary>
/// A batch to create: its canvas and id, the emit depth its callbacks run at, an idempotency key (null for none), the
/// trace its callbacks join, and its callbacks.
/// </summary>
public sealed record NewBatch(
    string Canvas,
    Guid Id,
    int Depth,
    string? IdempotencyKey,
    string? TraceParent,
    BatchCallback? OnComplete,
    BatchCallback? OnSuccess);
