namespace Workq.Shared.Poison;

/// <summary>
/// A message that cannot be processed however often it is tried: its headers or body are not what its queue carries.
/// </summary>
public sealed class PoisonMessageException(string message) : Exception(message);
