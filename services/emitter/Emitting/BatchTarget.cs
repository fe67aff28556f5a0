namespace Workq.Emitter.Emitting;

/// <summary>The batch an emit's events join, and whether the request closes it once they have.</summary>
public readonly record struct BatchTarget(Guid Id, bool Close);
