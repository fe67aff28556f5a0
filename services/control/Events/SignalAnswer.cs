namespace Workq.Control.Events;

/// <summary>
/// A signal's answer: <c>resumed</c> (the event waited for it and runs again now) or <c>kept</c> (for its next wait of
/// that name).
/// </summary>
public sealed record SignalAnswer(Guid Id, string Signal, string State);
