using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Workq.Worker.Isolation;

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
