namespace Workq.Client;

/// <summary>At most <c>Events</c> handler runs per <c>PerSeconds</c> seconds, over every worker instance.</summary>
public sealed record RateLimit(int Events, double PerSeconds);
