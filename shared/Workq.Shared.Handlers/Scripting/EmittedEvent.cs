namespace Workq.Shared.Handlers.Scripting;

/// <summary>An event a handler emitted, for its trace.</summary>
public sealed record EmittedEvent(string Worker, Guid Id);
