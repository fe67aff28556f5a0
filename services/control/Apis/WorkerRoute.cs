namespace Workq.Control.Apis;

/// <summary>
/// The route values of a worker's routes, bound with <c>[AsParameters]</c>; the canvas group's filter has checked both
/// names.
/// </summary>
public sealed record WorkerRoute(string Canvas, string Worker);
