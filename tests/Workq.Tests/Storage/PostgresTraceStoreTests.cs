using Workq.Shared.Storage;
using Workq.Tests.Infrastructure;

namespace Workq.Tests.Storage;

/// <summary>The trace store contract on PostgreSQL, the default: always run, in a throwaway database.</summary>
public sealed class PostgresTraceStoreTests(ThrowawayDatabase database) : TraceStoreContract, IClassFixture<ThrowawayDatabase>
{
    protected override ITraceStore Store { get; } = new PostgresTraceStore(database.Db);
}
