using Npgsql;
using Workq.Shared.Messaging;

namespace Workq.Shared.Hosting;

/// <summary>/readyz: ready only when both RabbitMQ and PostgreSQL answer. Cached briefly so probes cost nothing.</summary>
public sealed class Readiness(BrokerConnection broker, NpgsqlDataSource db)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private (DateTimeOffset At, string? Problem) last = (DateTimeOffset.MinValue, null);

    /// <returns>null when ready, else what is missing.</returns>
    public async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        if (DateTimeOffset.UtcNow - last.At < CacheFor) return last.Problem;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        var problem = await BrokerProblemAsync(timeout.Token) ?? await DatabaseProblemAsync(timeout.Token);
        last = (DateTimeOffset.UtcNow, problem);
        return problem;
    }

    private async Task<string?> BrokerProblemAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = await broker.GetAsync(cancellationToken);
            return connection.IsOpen ? null : "RabbitMQ connection is closed";
        }
        catch (Exception e)
        {
            return $"RabbitMQ unreachable: {e.Message}";
        }
    }

    private async Task<string?> DatabaseProblemAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = db.CreateCommand("select 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return null;
        }
        catch (Exception e)
        {
            return $"PostgreSQL unreachable: {e.Message}";
        }
    }
}
