namespace Workq.Shared.Storage;

/// <summary>A signal's <see cref="SignalState"/>, with the name the event waits for when that is another.</summary>
public readonly record struct SignalOutcome(SignalState State, string? WaitingFor);
