namespace Workq.Shared.Storage;

/// <summary>
/// A final status of a batch's member, with its result (JSON) or error as its status keeps them: the first one recorded
/// for an id is the one the batch counts, and the one its callback reads.
/// </summary>
public readonly record struct BatchFinish(
    string Canvas,
    Guid BatchId,
    Guid EventId,
    string Status,
    string? Result = null,
    string? Error = null);
