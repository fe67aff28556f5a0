namespace Workq.Worker.Isolation;

/// <summary>The OS sandbox this instance's runners start in: <c>namespaces+seccomp</c>, or <c>off</c>.</summary>
public sealed record SandboxInForce(string Name);
