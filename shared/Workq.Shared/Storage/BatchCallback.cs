namespace Workq.Shared.Storage;

/// <summary>A callback: the worker it is emitted to and its event, as JSON.</summary>
public sealed record BatchCallback(string Worker, byte[] Event);
