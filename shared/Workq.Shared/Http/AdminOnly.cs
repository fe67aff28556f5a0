namespace Workq.Shared.Http;

/// <summary>Marks a route of a canvas group that only the admin token may use (block, unblock).</summary>
public sealed record AdminOnly;
