using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Workq.Worker.Isolation;

/// <summary>The OS sandbox this instance's runners start in: <c>namespaces+seccomp</c>, or <c>off</c>.</summary>
public sealed record SandboxInForce(string Name);

/// <summary>
/// /readyz says which sandbox is in force (a line <c>sandbox: namespaces+seccomp</c>); it was checked at start.
/// </summary>
public sealed class SandboxHealthCheck(SandboxInForce sandbox) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(
        HealthCheckContext context,
        CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy(data: new Dictionary<string, object> { ["sandbox"] = sandbox.Name }));
}
