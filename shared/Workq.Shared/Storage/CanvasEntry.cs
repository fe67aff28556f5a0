namespace Workq.Shared.Storage;

/// <summary>A canvas as the caches that authorize requests know it: its token's hash and its incarnation.</summary>
public sealed record CanvasEntry(string TokenHash, long Incarnation);
