using Npgsql;

namespace Workq.Testing;

/// <summary>
/// The database a Workq under test or bench is given: made and dropped by the servers' admin role, owned by the
/// services' role, which creates its tables (and the trusted pg_trgm extension) there as in production, without the
/// right to create databases or roles.
/// </summary>
public static class ServiceDatabase
{
    /// <summary>
    /// Creates <paramref name="name"/> owned by the role of <paramref name="services"/>; returns that role's connection
    /// string to it.
    /// </summary>
    public static async Task<string> CreateAsync(
        string admin,
        string services,
        string name,
        CancellationToken cancellationToken = default)
    {
        var owner = new NpgsqlConnectionStringBuilder(services).Username
            ?? throw new InvalidOperationException("The services' connection string names no role (Username=...).");
        try
        {
            await ExecuteAsync(admin, $"create database {Quote(name)} owner {Quote(owner)}", cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new InvalidOperationException(
                $"{new NpgsqlConnectionStringBuilder(admin).Username} may not create a database owned by {owner} "
                + $"({e.MessageText}): the tests and the bench make theirs with an admin role that may create "
                + $"databases and is a member of {owner} (WORKQ_TEST_POSTGRES_ADMIN, WORKQ_BENCH_POSTGRES_ADMIN; "
                + "scripts/servers.sh writes one to .run/servers.env).",
                e);
        }
        return new NpgsqlConnectionStringBuilder(services) { Database = name }.ConnectionString;
    }

    /// <summary>Drops the database, ending any connection still open to it.</summary>
    public static async Task DropAsync(string admin, string name, CancellationToken cancellationToken = default)
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(admin, $"drop database if exists {Quote(name)} with (force)", cancellationToken);
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Quote(string identifier)
        => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
