using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Driver;
using Workq.Traces.MongoDb;

namespace Workq.Tests.Storage;

/// <summary>
/// A throwaway database on the MongoDB that <c>WORKQ_TEST_MONGODB</c> names; nothing at all when it is unset.
/// </summary>
public sealed class MongoTraceDatabase : IAsyncLifetime
{
    public const string Variable = "WORKQ_TEST_MONGODB";

    private readonly string name = "workq_test_" + Guid.NewGuid().ToString("N")[..10];
    private MongoUrl? url;

    public MongoTraceStore? Store { get; private set; }

    public Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } server) return Task.CompletedTask;
        url = new MongoUrlBuilder(server) { DatabaseName = name }.ToMongoUrl();
        Store = new MongoTraceStore(url, NullLogger<MongoTraceStore>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (url is null) return;
        Store!.Dispose();
        using var client = new MongoClient(url);
        await client.DropDatabaseAsync(name);
    }
}
