namespace Workq.Shared.Handlers.Messaging;

/// <summary>A step in a run's trace: its name, whether its stored result was returned, and how long it took.</summary>
public readonly record struct StepTrace(string Name, bool Replayed, TimeSpan Duration);
