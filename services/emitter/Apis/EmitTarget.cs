namespace Workq.Emitter.Apis;

/// <summary>The route values of a single emit, bound with <c>[AsParameters]</c>.</summary>
public sealed record EmitTarget(string Canvas, string Worker);
