namespace Workq.Shared.Storage;

/// <summary>A finished event's trace, already serialized as the JSON that API.md's Trace describes.</summary>
public sealed record TraceEntry(string Canvas, string Worker, Guid EventId, DateTimeOffset FinishedAt, string Json);
