using System.Text.Json.Serialization;

namespace Workq.Client;

// The shapes of docs/API.md, as the services send them (camelCase JSON).

/// <summary>A worker; <c>Code</c> is only filled when one worker is read or deployed.</summary>
public sealed record Worker(
    string Canvas,
    string Name,
    int Version,
    string State,
    string? BlockedReason,
    int Concurrency,
    RetryPolicy? Retry,
    WorkerStats Stats,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Code = null,
    RateLimit? RateLimit = null);

internal sealed record BatchAccepted(IReadOnlyList<Guid> Ids);
internal sealed record PurgeResult(long Purged);
internal sealed record RedriveResult(long Redriven);
internal sealed record DiscardResult(long Discarded);
