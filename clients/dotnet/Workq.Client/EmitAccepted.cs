namespace Workq.Client;

/// <summary>The 202 answer to a single emit.</summary>
public sealed record EmitAccepted(Guid Id, DateTimeOffset EnqueuedAt);
