using Workq.Shared.Storage;

namespace Workq.Tests.Storage;

/// <summary>The trace store contract on PostgreSQL, the default: always run, in a throwaway database.</summary>
public sealed class PostgresTraceStoreTests(ThrowawayDatabase database) :
    TraceStoreContract,
    IClassFixture<ThrowawayDatabase>
{
    protected override ITraceStore Store { get; } = new PostgresTraceStore(database.Db);
}
