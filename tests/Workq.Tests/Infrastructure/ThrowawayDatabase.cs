using Dapper;
using Npgsql;
using Workq.Shared.Storage;

namespace Workq.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL database with Workq's tables, for store-level tests without services or a broker: owned by,
/// and used as, the services' role.
/// </summary>
public sealed class ThrowawayDatabase : IAsyncLifetime
{
    private readonly string name = "workq_store_" + Guid.NewGuid().ToString("N")[..10];

    public string Name => name;

    public NpgsqlDataSource Db { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = new NpgsqlDataSourceBuilder(
            await ServiceDatabase.CreateAsync(WorkqCluster.PostgresAdmin, WorkqCluster.ServicePostgres, name)).Build();
        await Schema.EnsureAsync(Db, CancellationToken.None);
    }

    /// <summary>
    /// A canvas row, as control creates it: the stores write only for a canvas that is alive. Returns its incarnation.
    /// </summary>
    public async Task<long> CreateCanvasAsync(string canvas)
    {
        await using var connection = await Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(
            "insert into canvases (name, token_hash) values (@canvas, 'hash-' || @canvas) returning incarnation",
            new { canvas });
    }

    public async Task DisposeAsync()
    {
        await Db.DisposeAsync();
        await ServiceDatabase.DropAsync(WorkqCluster.PostgresAdmin, name);
    }
}
