namespace Workq.Shared.Handlers.Messaging;

/// <summary>One event of a handler's <c>EmitBatch</c>, or one of its callbacks: its worker and its JSON.</summary>
public readonly record struct BatchEmitItem(string Worker, ReadOnlyMemory<byte> Json);
