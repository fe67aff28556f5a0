using System.Text.Json.Serialization;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>The worker object of API.md; <c>code</c> only when one worker is asked for.</summary>
public sealed record WorkerView(
    string Canvas,
    string Name,
    int Version,
    string State,
    string? BlockedReason,
    int Concurrency,
    RetryPolicy? Retry,
    RateLimit? RateLimit,
    WorkerStatsView Stats,
    WorkerLimitsView Limits,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RunnerView? Runner = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Code = null);
