namespace Workq.Client;

/// <summary>
/// One step of a durable run, as its trace lists them in the order they ended (<see cref="Trace.Steps"/>).
/// </summary>
/// <param name="Name">The step's name and occurrence in the run, e.g. <c>charge#1</c> (handler text).</param>
/// <param name="Replayed">True when an earlier run's stored result was returned; false when the step ran.</param>
/// <param name="DurationMs">How long it took, in milliseconds.</param>
public sealed record TraceStep(string Name, bool Replayed, double DurationMs);
