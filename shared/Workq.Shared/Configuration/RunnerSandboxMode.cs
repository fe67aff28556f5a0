namespace Workq.Shared.Configuration;

/// <summary>
/// The OS sandbox around runner processes (<c>WORKQ_SANDBOX</c>): namespaces and seccomp, or none (cgroups apply either
/// way).
/// </summary>
public enum RunnerSandboxMode { Namespaces, Off }
