namespace Workq.Shared.Storage;

/// <summary>Another request holds what this one needs (a batch being created with the same key): retry.</summary>
public sealed class BatchConflictException(string message) : Exception(message);
