using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Workq.Traces.MongoDb;

public sealed class MongoHealthCheck(MongoTraceStore traces) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(
        HealthCheckContext context,
        CancellationToken cancellationToken = default)
    {
        try
        {
            await traces.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"MongoDB (WORKQ_TRACES_MONGODB) does not answer: {e.Message}");
        }
    }
}
