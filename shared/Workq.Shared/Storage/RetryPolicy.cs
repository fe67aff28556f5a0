namespace Workq.Shared.Storage;

/// <summary>Opt-in retry after a thrown exception (API.md <c>retry</c>).</summary>
public sealed record RetryPolicy(int MaxAttempts, int[] BackoffSeconds);
