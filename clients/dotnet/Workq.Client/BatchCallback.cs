namespace Workq.Client;

/// <summary>
/// An event a batch emits to <c>Worker</c> when it completes (<c>onComplete</c>: always; <c>onSuccess</c>: only when
/// every member completed). <c>Event</c> is serialized like an emitted value.
/// </summary>
public sealed record BatchCallback(string Worker, object? Event);
