namespace Workq.Client;

/// <summary>
/// Opt-in retry after a handler throws: re-run up to <c>MaxAttempts</c>, waiting <c>BackoffSeconds</c> between runs.
/// </summary>
public sealed record RetryPolicy(int MaxAttempts, IReadOnlyList<int>? BackoffSeconds = null);
