namespace Workq.Control.Stats;

/// <summary>
/// What the worker instances run of one worker: events in flight, and cancelled consumers still finishing theirs.
/// </summary>
public readonly record struct RunningLoad(long InFlight, int Draining);
