namespace Workq.Shared.Handlers.Messaging;

/// <summary>
/// One member of a batch, as its callback reads it (API.md "Batches"): its status and, once final, its result's JSON or
/// its error.
/// </summary>
public readonly record struct BatchResult(Guid Id, string Worker, string Status, string? ResultJson, string? Error);
