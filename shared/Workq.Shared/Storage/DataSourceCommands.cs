using Dapper;
using Npgsql;
using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

internal static class DataSourceCommands
{
    /// <summary>
    /// An event as the parameters of a statement that keeps it (a dead letter, a parked event): @Canvas, @Worker, @Id,
    /// @EnqueuedAt, @Depth, @TraceParent, @body, @OrderingKey, @Priority, and the incarnations its fence checks,
    /// @CanvasIncarnation and @WorkerIncarnation.
    /// </summary>
    public static DynamicParameters EventParameters(in EventEnvelope envelope, ReadOnlyMemory<byte> body)
    {
        var parameters = new DynamicParameters();
        parameters.Add("Canvas", envelope.Canvas);
        parameters.Add("Worker", envelope.Worker);
        parameters.Add("Id", envelope.Id);
        parameters.Add("EnqueuedAt", envelope.EnqueuedAt.UtcDateTime);
        parameters.Add("Depth", envelope.Depth);
        parameters.Add("TraceParent", envelope.TraceParent);
        parameters.Add("body", body.ToArray());
        parameters.Add("OrderingKey", envelope.OrderingKey);
        parameters.Add("Priority", (short)envelope.Priority);
        parameters.Add("CanvasIncarnation", envelope.CanvasIncarnation);
        parameters.Add("WorkerIncarnation", envelope.WorkerIncarnation);
        return parameters;
    }

    /// <summary>One statement (or several, one round trip) on a pooled connection of its own.</summary>
    public static async Task ExecuteAsync(
        this NpgsqlDataSource db,
        string sql,
        object parameters,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
    }
}
