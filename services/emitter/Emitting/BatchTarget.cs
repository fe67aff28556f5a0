namespace Workq.Emitter.Emitting;

/// <summary>
/// The batch an emit's events join, whether the request closes it once they have, and whether it is the request that
/// created it.
/// </summary>
public readonly record struct BatchTarget(Guid Id, bool Close, bool Creating = false);
