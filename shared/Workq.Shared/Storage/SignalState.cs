namespace Workq.Shared.Storage;

/// <summary>
/// What a signal did (<see cref="StepStore.SignalAsync"/>): <c>Resumed</c> the wait for it; <c>Kept</c> for the event's
/// next wait of that name; not delivered because the event is <c>NotWaiting</c> for it (final, or waiting for another
/// name) or was <c>AlreadySignalled</c> with it.
/// </summary>
public enum SignalState { Resumed, Kept, NotWaiting, AlreadySignalled }
