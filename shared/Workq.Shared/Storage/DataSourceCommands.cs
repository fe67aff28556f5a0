using Dapper;
using Npgsql;

namespace Workq.Shared.Storage;

internal static class DataSourceCommands
{
    /// <summary>One statement (or several, one round trip) on a pooled connection of its own.</summary>
    public static async Task ExecuteAsync(this NpgsqlDataSource db, string sql, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
    }
}
