using Microsoft.Extensions.Diagnostics.HealthChecks;
using Workq.Shared.Messaging;

namespace Workq.Shared.Hosting;

/// <summary>
/// Ready when the service's broker connection is open (it is opened on first use, to any node that answers).
/// </summary>
public sealed class BrokerHealthCheck(BrokerConnection broker) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(
        HealthCheckContext context,
        CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await broker.GetAsync(cancellationToken);
            return connection.IsOpen
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("RabbitMQ connection is closed");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"RabbitMQ unreachable: {e.Message}");
        }
    }
}
