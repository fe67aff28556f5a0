using Dapper;
using Npgsql;
using Workq.Shared.Storage;

namespace Workq.Tests.Infrastructure;

/// <summary>A throwaway PostgreSQL database with Workq's tables, for store-level tests without services or a broker.</summary>
public sealed class ThrowawayDatabase : IAsyncLifetime
{
    private readonly string name = "workq_store_" + Guid.NewGuid().ToString("N")[..10];

    public NpgsqlDataSource Db { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await using (var admin = new NpgsqlConnection(WorkqCluster.PostgresAdmin))
        {
            await admin.OpenAsync();
            await admin.ExecuteAsync($"create database {name}");
        }
        Db = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(WorkqCluster.PostgresAdmin) { Database = name }.ConnectionString).Build();
        await Schema.EnsureAsync(Db, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Db.DisposeAsync();
        await using var admin = new NpgsqlConnection(WorkqCluster.PostgresAdmin);
        await admin.OpenAsync();
        await admin.ExecuteAsync($"drop database if exists {name} with (force)");
    }
}
