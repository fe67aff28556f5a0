namespace Workq.Worker.Isolation;

/// <summary>Why the runner sandbox cannot start on this machine, in one line.</summary>
public sealed class SandboxUnavailableException(string message) : Exception(message);
