namespace Workq.Client;

/// <summary>An event a handler emitted while it ran.</summary>
public sealed record EmittedEvent(string Worker, Guid Id);
