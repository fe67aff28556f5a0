using Npgsql;
using Workq.Shared.Storage;

namespace Workq.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL database with Workq's tables, for store-level tests without services or a broker: owned by, and
/// used as, the services' role.
/// </summary>
public sealed class ThrowawayDatabase : IAsyncLifetime
{
    private readonly string name = "workq_store_" + Guid.NewGuid().ToString("N")[..10];

    public NpgsqlDataSource Db { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = new NpgsqlDataSourceBuilder(await ServiceDatabase.CreateAsync(WorkqCluster.PostgresAdmin, WorkqCluster.ServicePostgres, name)).Build();
        await Schema.EnsureAsync(Db, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Db.DisposeAsync();
        await ServiceDatabase.DropAsync(WorkqCluster.PostgresAdmin, name);
    }
}
